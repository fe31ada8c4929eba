module tokenward

go 1.24
