// Package detections holds the detection pack: one SQL file per detection,
// each with a header naming its technique, severity and the fields it
// needs (docs/DETECTIONS.md). internal/detect parses and runs them.
package detections

import "embed"

// FS holds the pack's .sql files.
//
//go:embed *.sql
var FS embed.FS
