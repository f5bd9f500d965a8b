// Package demo holds a realistic demo course in Portuguese, as a transfer file,
// for `contentd seed-demo`, `make run` and tests.
package demo

import (
	_ "embed"
	"fmt"

	"google.golang.org/protobuf/encoding/protojson"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
)

// File is the demo course as a transfer file (the format ExportCourse writes).
//
//go:embed curso-demo.json
var File []byte

// Course returns the demo course parsed from File.
func Course() (*contentv1.Course, error) {
	var export contentv1.CourseExport
	if err := protojson.Unmarshal(File, &export); err != nil {
		return nil, fmt.Errorf("parse demo course: %w", err)
	}
	return export.GetCourse(), nil
}
