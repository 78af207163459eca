// Command gen turns a folder of table specs into Go code for the runtime.
//
//	go run ./gen -specs specs/okta -out generated/okta [-schema specs/schema.json]
//
// Every spec problem is printed at once as file:line:col: field: message, and
// the exit status is 1; nothing is written unless everything succeeds.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"oktasync/gen/pipeline"
)

func main() {
	specs := flag.String("specs", "", "folder of *.yaml table specs")
	out := flag.String("out", "", "folder for the generated Go files")
	pkg := flag.String("pkg", "", "package name of the generated code (default: the base name of -out)")
	rt := flag.String("runtime", "oktasync/runtime", "import path of the runtime package")
	schema := flag.String("schema", "", "also write the spec language's JSON Schema to this file")
	flag.Parse()
	if *specs == "" || *out == "" {
		fmt.Fprintln(os.Stderr, "usage: gen -specs DIR -out DIR [-pkg NAME] [-schema FILE]")
		os.Exit(2)
	}
	if *pkg == "" {
		abs, err := filepath.Abs(*out)
		if err != nil {
			fail(err)
		}
		*pkg = filepath.Base(abs)
	}
	display := filepath.ToSlash
	if root, err := pipeline.ModuleRoot("."); err == nil {
		display = pipeline.RelativeTo(root)
	}
	res, err := pipeline.Run(pipeline.Config{SpecDir: *specs, Package: *pkg, Runtime: *rt, Display: display})
	if err != nil {
		fail(err)
	}
	if *schema != "" {
		if err := pipeline.WriteSchema(*schema); err != nil {
			fail(err)
		}
	}
	if err := pipeline.Write(*out, res); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
