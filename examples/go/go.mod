module tokenward-example

go 1.24

require tokenward v0.0.0

replace tokenward => ../../bindings/go
