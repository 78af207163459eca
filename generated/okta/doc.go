// Package okta holds the tables generated from specs/okta: descriptors, row
// structs and extractors the runtime syncs. Edit the specs, not these files.
package okta

//go:generate go run ../../gen -specs ../../specs/okta -out . -schema ../../specs/schema.json
