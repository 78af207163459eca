package fetch_test

import (
	"fmt"
	"net/http"

	"oktasync/runtime/fetch"
)

func ExampleParseLinks() {
	h := http.Header{}
	h.Add("Link", `<https://api.example.com/items?limit=2>; rel="self"`)
	h.Add("Link", `<https://api.example.com/items?limit=2&after=x7>; rel="next"`)
	links := fetch.ParseLinks(h.Values("Link"))
	fmt.Println(links["next"])
	// Output: https://api.example.com/items?limit=2&after=x7
}

func ExampleRedactURL() {
	fmt.Println(fetch.RedactURL("https://api.example.com/items?limit=2&api_key=s3cr3t"))
	// Output: https://api.example.com/items?limit=2&api_key=REDACTED
}

func ExampleHeaderToken() {
	auth := fetch.HeaderToken("Authorization", "Bearer", "s3cr3t")
	fmt.Println(auth)
	// Output: header token Authorization: Bearer REDACTED
}
