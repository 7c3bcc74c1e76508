package specs

import _ "embed"

//go:embed schema/burnwatch.schema.json
var schema []byte

// Schema returns the JSON Schema of one Burnwatch spec document (a Flow or
// an SLO), for editors: yaml-language-server reads it from a
// "# yaml-language-server: $schema=..." comment. `burnwatch validate
// --schema` prints it. A test keeps it in step with the parser.
func Schema() []byte { return append([]byte(nil), schema...) }
