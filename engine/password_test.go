package engine

import (
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func TestPasswordArgon2id(t *testing.T) {
	p := PasswordParams{Time: 1, MemKiB: 1024, Threads: 1} // cheap for tests; the format is what matters
	h, err := HashPassword("correct horse ✓", p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=1024,t=1,p=1$") {
		t.Fatalf("not a PHC argon2id string: %s", h)
	}
	if !VerifyPassword(h, "correct horse ✓") {
		t.Fatal("right password rejected")
	}
	if VerifyPassword(h, "correct horse") {
		t.Fatal("wrong password accepted")
	}
	h2, _ := HashPassword("correct horse ✓", p)
	if h == h2 {
		t.Fatal("two hashes of one password are equal: salt missing")
	}
}

func TestPasswordImportedBcrypt(t *testing.T) {
	b, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{string(b), "$2y$" + string(b[4:])} {
		if !VerifyPassword(h, "s3cret") || VerifyPassword(h, "S3cret") {
			t.Fatalf("bcrypt %s verification wrong", h[:4])
		}
	}
}

func TestPasswordMalformedHashes(t *testing.T) {
	for _, h := range []string{"", "plain", "$argon2id$", "$argon2id$v=19$m=x$a$b", "$argon2id$v=19$m=1024,t=1,p=1$!!$!!",
		"$argon2id$v=19$m=99999999,t=1,p=1$AAAA$AAAA", "$2a$04$short", "$argon2i$v=19$m=1024,t=1,p=1$AAAA$AAAA"} {
		if VerifyPassword(h, "x") {
			t.Errorf("%q verified", h)
		}
	}
}
