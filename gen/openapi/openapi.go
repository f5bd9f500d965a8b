// Package openapi embeds the OpenAPI document that protoc-gen-openapiv2 writes
// beside this file. This Go file is the only hand-written file under gen/: embed
// cannot reach a file outside its package directory. `make generate` keeps it.
package openapi

import _ "embed"

// JSON is the OpenAPI v2 document of the REST routes.
//
//go:embed content.swagger.json
var JSON []byte
