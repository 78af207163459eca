// Package models holds the data models: one SQL file per model, each with a
// header saying what it answers, its grain, key and columns
// (docs/MODELS.md). internal/models parses, orders and materialises them.
package models

import "embed"

// FS holds the models' .sql files.
//
//go:embed *.sql
var FS embed.FS
