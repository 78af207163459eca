package fetch

import (
	"strings"
	"testing"
)

// TestUserinfoNeverEchoed: a URL's user name and password never reach an
// error, whatever the URL's shape (issue 13.8).
func TestUserinfoNeverEchoed(t *testing.T) {
	for _, raw := range []string{
		"http://admin:hunter2@example.com",
		"https://admin:hunter2@example.com:443/path?q=1",
		"http://admin:hunter2@127.0.0.1:8080",
		"admin:hunter2@example.com", // no scheme: "admin" parses as one
		"//admin:hunter2@example.com",
		"https://admin:hunter2@exa mple.com",
		"ftp://admin:hunter2@example.com",
		"https://admin@example.com",
	} {
		for what, text := range map[string]string{"RedactURL": RedactURL(raw), "New": errText(New(Config{BaseURL: raw}))} {
			if strings.Contains(text, "hunter2") || strings.Contains(text, "admin") {
				t.Errorf("%s(%q) echoes the userinfo: %s", what, raw, text)
			}
		}
		if _, err := New(Config{BaseURL: raw}); err == nil {
			t.Errorf("New accepted base url %q", raw)
		}
	}
	if got, want := RedactURL("https://admin:hunter2@example.com/a?limit=2#f"), "https://example.com/a?limit=2"; got != want {
		t.Errorf("RedactURL = %q, want %q", got, want)
	}
	_, err := New(Config{BaseURL: "https://admin:hunter2@example.com"})
	if want := "base url https://example.com must not carry credentials"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("New error = %v, want it to contain %q", err, want)
	}
}

// errText is the error's text, or "" without one.
func errText[T any](_ T, err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
