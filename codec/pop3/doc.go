// Package pop3 is a sans-I/O codec for POP3 (RFC 1939) with its extensions:
// CAPA and response codes (RFC 2449), AUTH (RFC 5034), STLS (RFC 2595) and
// UTF8/LANG (RFC 6856).
//
// The Parser is push-fed: the caller feeds it the bytes that arrived and
// pulls commands (or SASL response lines) until it asks for more input. It
// never reads a socket and never blocks.
//
// The writer side appends replies to a byte slice (AppendOK, AppendErr,
// AppendCapa, ...) and streams RETR and TOP bodies through DotWriter and
// TopWriter, which dot-stuff a message as it passes without buffering it
// and keep its octets as stored.
package pop3
