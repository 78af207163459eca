package spec

import (
	"encoding/json"
	"reflect"
	"strings"
)

// Schema returns the JSON Schema of spec files, derived from the types of
// this package so that the editor's view and the loader cannot disagree.
func Schema() []byte {
	defs := map[string]any{}
	root := structSchema(reflect.TypeFor[File](), defs)
	root["$defs"] = defs
	root["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	root["$id"] = "https://oktasync.dev/specs/schema.json"
	root["title"] = "oktasync table spec"
	out, err := json.MarshalIndent(root, "", "  ")
	if err != nil {
		panic(err) // only maps, slices and strings: cannot fail
	}
	return append(out, '\n')
}

const durationPattern = `^([0-9]+d|([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+)$`

func schemaOf(t reflect.Type, defs map[string]any) map[string]any {
	switch t {
	case namesType:
		return map[string]any{"oneOf": []any{
			map[string]any{"type": "string"},
			map[string]any{"type": "array", "items": map[string]any{"type": "string"}, "minItems": 1},
		}}
	case paramsType:
		return map[string]any{"type": "object", "additionalProperties": map[string]any{"type": []string{"string", "number", "boolean"}}}
	case durationType:
		return map[string]any{"type": "string", "pattern": durationPattern}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return schemaOf(t.Elem(), defs)
	case reflect.Slice:
		return map[string]any{"type": "array", "items": schemaOf(t.Elem(), defs)}
	case reflect.String:
		s := map[string]any{"type": "string"}
		if t.Implements(enumType) {
			s["enum"] = reflect.Zero(t).Interface().(enum).Enum()
		}
		return s
	case reflect.Int:
		return map[string]any{"type": "integer"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Struct:
		// Named structs go to $defs: Child contains itself.
		if _, ok := defs[t.Name()]; !ok {
			defs[t.Name()] = nil
			defs[t.Name()] = structSchema(t, defs)
		}
		return map[string]any{"$ref": "#/$defs/" + t.Name()}
	}
	panic("spec: no schema for " + t.String())
}

func structSchema(t reflect.Type, defs map[string]any) map[string]any {
	{
		props := map[string]any{}
		var required []string
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name := yamlName(f)
			if name == "" || name == "-" {
				continue
			}
			p := schemaOf(f.Type, defs)
			if doc := f.Tag.Get("doc"); doc != "" {
				p = withDoc(p, doc)
			}
			props[name] = p
			if f.Tag.Get("spec") == "required" {
				required = append(required, name)
			}
		}
		s := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
		if len(required) > 0 {
			s["required"] = required
		}
		if doc := typeDocs[t.Name()]; doc != "" {
			s["description"] = strings.TrimSpace(doc)
		}
		return s
	}
}

// withDoc adds a description; a $ref is wrapped because JSON Schema editors
// show the description of the property, not of the referenced definition.
func withDoc(p map[string]any, doc string) map[string]any {
	if _, ok := p["$ref"]; ok {
		return map[string]any{"allOf": []any{p}, "description": doc}
	}
	p["description"] = doc
	return p
}

var typeDocs = map[string]string{
	"File": "One table family of a connector spec folder.",
}
