package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eidermail/eider/bench/imapload"
	"github.com/eidermail/eider/bench/load"
)

// liar relays IMAP between clients and a real server, passing each line
// the server sends through rewrite (nil drops it): a server with a bug of
// our choosing.
func liar(t *testing.T, upstream string, rewrite func(line string) []byte) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			server, err := net.Dial("tcp", upstream)
			if err != nil {
				client.Close()
				continue
			}
			wg.Go(func() {
				io.Copy(server, client)
				server.Close()
			})
			wg.Go(func() {
				defer client.Close()
				br := bufio.NewReader(server)
				for {
					line, err := br.ReadString('\n')
					if err != nil {
						return
					}
					if out := rewrite(line); out != nil {
						if _, err := client.Write(out); err != nil {
							return
						}
					}
				}
			})
		}
	})
	return ln.Addr().String()
}

// TestStressCatchesServerBugs runs the stress mode against servers that
// lie in two ways a real server could: it must report consistency errors,
// or its clean runs against Eider would prove nothing.
func TestStressCatchesServerBugs(t *testing.T) {
	srv := startServer(t)
	expunge := regexp.MustCompile(`^\* \d+ EXPUNGE\r\n$`)
	cases := []struct {
		name    string
		rewrite func(string) []byte
	}{
		{"EXPUNGE responses lost", func(l string) []byte {
			if expunge.MatchString(l) {
				return nil
			}
			return []byte(l)
		}},
		{"keywords dropped from FETCH", func(l string) []byte {
			if strings.HasPrefix(l, "* ") && strings.Contains(l, " FETCH ") {
				l = strings.ReplaceAll(l, "$bench", "$other")
			}
			return []byte(l)
		}},
		{"SEARCH finds a message never announced", func(l string) []byte {
			if strings.HasPrefix(l, "* SEARCH") {
				l = strings.TrimSuffix(l, "\r\n") + " 4000000000\r\n"
			}
			return []byte(l)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			addr := liar(t, srv.imap, c.rewrite)
			rep, err := imapload.Run(context.Background(), imapload.Config{
				Target: load.Target{Addr: addr}, Users: 2, UserFormat: userFormat, Password: benchPassword,
				Clients: 4, Ops: 600, Duration: time.Minute, Seed: 3, MinMessages: 10, MaxMessages: 30,
			})
			if err != nil {
				t.Fatal(err)
			}
			if rep.ConsistencyErrors == 0 {
				t.Fatalf("no consistency error in %d operations", rep.Ops)
			}
			t.Logf("%d consistency errors in %d operations, e.g. %q", rep.ConsistencyErrors, rep.Ops, rep.ConsistencySamples[0])
		})
	}
}
