package naming

import (
	"fmt"
	"testing"
)

func TestSnake(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"lastMembershipUpdated", "last_membership_updated"},
		{"samAccountName", "sam_account_name"},
		{"HTMLParser", "html_parser"},
		{"_links", "_links"},
		{"ipAddress", "ip_address"},
		{"id", "id"},
		{"asNumber", "as_number"},
		{"x509Cert", "x509_cert"},
		{"drop table; --", "drop_table_"},
		{"a.b-c", "a_b_c"},
		{"objectClass", "object_class"},
		{"DTHash", "dt_hash"},
	} {
		if got := Snake(tc.in); got != tc.want {
			t.Errorf("Snake(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func ExamplePath() {
	fmt.Println(Path([]string{"profile", "firstName"}))
	// Output: profile_first_name
}

func TestPath(t *testing.T) {
	if got := Path([]string{"_links", "self", "href"}); got != "_links_self_href" {
		t.Errorf("got %q", got)
	}
	if got := Path([]string{"credentials", "password", "hash", "value"}); got != "credentials_password_hash_value" {
		t.Errorf("got %q", got)
	}
}
