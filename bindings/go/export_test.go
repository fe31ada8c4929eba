package tokenward

// statusNameOf is tw_status_name, for the tests (cgo is not allowed in _test.go files).
func statusNameOf(code int) string { return statusNameInt(code) }
