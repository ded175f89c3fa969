// Package testkit holds helpers shared by the repository's tests: a
// self-signed TLS certificate, a runner for Python client scripts and a
// log buffer safe for concurrent writers. It depends on the standard
// library only, so the tests of low layers such as edge/netloop can use it
// without depending on the engine; the engine builder lives in the
// enginekit subpackage for that reason.
//
// Only tests import this package.
package testkit
