package imap

import (
	"context"
	"errors"

	imap "github.com/eidermail/eider/codec/imap"
	"github.com/eidermail/eider/edge/netloop"
	"github.com/eidermail/eider/engine"
)

func (s *session) cmdLogin(ctx context.Context, tag string, a *imap.LoginCommand) status {
	if !s.loginAllowed() {
		return no(imap.CodePrivacyRequired, "LOGIN is disabled without TLS: use STARTTLS first")
	}
	return s.login(ctx, tag, a.Username, a.Password)
}

// login checks credentials and enters the authenticated state. A failure
// is answered after Config.AuthFailureDelay, and too many close the
// connection.
func (s *session) login(ctx context.Context, tag, name, password string) status {
	u, err := s.e.Authenticate(ctx, name, password)
	if errors.Is(err, engine.ErrAuthFailed) {
		s.authObserved(netloop.AuthFailure)
		return s.loginFailed(tag, name)
	}
	if err != nil {
		if ctx.Err() == nil {
			s.log().Error("authentication backend failed", "err", err)
		}
		s.authObserved(netloop.AuthError)
		return no(imap.CodeUnavailable, "authentication is temporarily unavailable")
	}
	if err := s.h.cfg.Limits.AcquireUser(u.Name); err != nil {
		s.authObserved(netloop.AuthRefused)
		if errors.Is(err, netloop.ErrTooManySessions) {
			s.log().Info("session limit reached", "user", u.Name)
			return no(imap.CodeLimit, "too many sessions for this user")
		}
		return no(imap.CodeUnavailable, "try again later")
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.h.cfg.Limits.ReleaseUser(u.Name)
		return no(imap.CodeUnavailable, "connection closing")
	}
	s.userSlot = u.Name
	s.mu.Unlock()

	s.user = u
	s.state = stateAuth
	s.authFails = 0
	s.authObserved(netloop.AuthSuccess)
	s.beacon = newBeacon(s)
	unsub := s.e.Notifier().Subscribe(u.ID, s.beacon.deliver)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		unsub()
	} else {
		s.unsubscribe = unsub
		s.mu.Unlock()
	}
	s.log().Info("logged in", "tls", s.conn.TLS() != nil)
	return okCode(imap.CodeCapability(s.capabilities()...), "logged in")
}

func (s *session) loginFailed(tag, name string) status {
	s.authFails++
	s.log().Info("login failed", "login", truncate(name, 64), "failures", s.authFails)
	answer := func() {
		s.w.NO(tag, imap.CodeAuthenticationFailed, "invalid credentials")
		s.answered(tag, imap.NO)
		if s.authFails >= s.h.cfg.MaxAuthFailures {
			s.bye("too many failed logins")
			s.stop = true
			_ = s.conn.Close()
		}
	}
	if d := s.h.cfg.AuthFailureDelay; d > 0 {
		s.continueLater(d, func(context.Context) { answer() })
		return deferred
	}
	answer()
	return deferred
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
