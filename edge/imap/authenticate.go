package imap

import (
	"bytes"
	"context"

	imap "github.com/eidermail/eider/codec/imap"
)

// saslExchange is an AUTHENTICATE in progress: the client owes a response.
type saslExchange struct {
	tag      string
	mech     string
	username string // LOGIN: the first response
}

// cmdAuthenticate runs SASL PLAIN (RFC 4616) or LOGIN, with an initial
// response when the client sends one (SASL-IR, RFC 4959).
func (s *session) cmdAuthenticate(ctx context.Context, tag string, a *imap.AuthenticateCommand) status {
	if !s.loginAllowed() {
		return no(imap.CodePrivacyRequired, "authentication is disabled without TLS: use STARTTLS first")
	}
	switch a.Mechanism {
	case "PLAIN":
		if a.HasInitialResponse {
			return s.authPlain(ctx, tag, a.InitialResponse)
		}
		s.sasl = &saslExchange{tag: tag, mech: "PLAIN"}
		s.w.Continue("")
	case "LOGIN":
		s.sasl = &saslExchange{tag: tag, mech: "LOGIN"}
		if a.HasInitialResponse {
			s.sasl.username = string(a.InitialResponse)
			s.w.ContinueBase64([]byte("Password:"))
		} else {
			s.w.ContinueBase64([]byte("Username:"))
		}
	default:
		return no(imap.CodeCannot, "unsupported authentication mechanism")
	}
	s.p.ExpectAuthResponse()
	return deferred
}

// saslResponse takes the client's answer to a challenge.
func (s *session) saslResponse(ctx context.Context, ev imap.Event) {
	x := s.sasl
	if x == nil {
		return
	}
	if ev.Cancel {
		s.sasl = nil
		s.w.BAD(x.tag, "", "authentication cancelled")
		return
	}
	var st status
	switch {
	case x.mech == "PLAIN":
		s.sasl = nil
		st = s.authPlain(ctx, x.tag, ev.Data)
	case x.username == "" && len(ev.Data) > 0:
		x.username = string(ev.Data)
		s.w.ContinueBase64([]byte("Password:"))
		s.p.ExpectAuthResponse()
		return
	default:
		s.sasl = nil
		if x.username == "" {
			st = no(imap.CodeAuthenticationFailed, "empty user name")
			break
		}
		st = s.login(ctx, x.tag, x.username, string(ev.Data))
	}
	if !st.deferred {
		s.finish(ctx, x.tag, "AUTHENTICATE", st)
	}
}

// authPlain checks a PLAIN response: authzid NUL authcid NUL password. A
// client may not act for another user.
func (s *session) authPlain(ctx context.Context, tag string, resp []byte) status {
	parts := bytes.Split(resp, []byte{0})
	if len(parts) != 3 || len(parts[1]) == 0 {
		return bad("malformed PLAIN response")
	}
	if len(parts[0]) > 0 && !bytes.Equal(parts[0], parts[1]) {
		return no(imap.CodeAuthorizationFailed, "acting as another user is not allowed")
	}
	return s.login(ctx, tag, string(parts[1]), string(parts[2]))
}
