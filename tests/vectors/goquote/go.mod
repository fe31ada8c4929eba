module tokenward/goquote

go 1.21
