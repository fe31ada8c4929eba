module tokenward/gocheck

// The go line decides net/http's and net/url's GODEBUG defaults: from go 1.24 on, a main module
// gets httpcookiemaxnum=3000 and urlmaxqueryparams=10000 (older lines get no limit). Coder's own
// go.mod declares go 1.25 and later, so its server has both limits; so must this program.
go 1.24
