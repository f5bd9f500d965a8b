package store

import (
	"strings"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
)

// The database stores enums as their short upper-case names ('DRAFT'); the proto
// enums carry a type prefix (COURSE_STATUS_DRAFT). An unknown name becomes
// UNSPECIFIED, which CHECK constraints keep from happening.

// The enums' numbers by their database names.
var (
	courseStatusByDB  = byDBName(contentv1.CourseStatus_value, "COURSE_STATUS_")
	videoProviderByDB = byDBName(contentv1.VideoProvider_value, "VIDEO_PROVIDER_")
	questionTypeByDB  = byDBName(contentv1.QuestionType_value, "QUESTION_TYPE_")
)

func byDBName(values map[string]int32, prefix string) map[string]int32 {
	m := make(map[string]int32, len(values))
	for name, n := range values {
		m[strings.TrimPrefix(name, prefix)] = n
	}
	return m
}

func courseStatusFromDB(s string) contentv1.CourseStatus {
	return contentv1.CourseStatus(courseStatusByDB[s])
}

func courseStatusToDB(s contentv1.CourseStatus) string {
	return strings.TrimPrefix(s.String(), "COURSE_STATUS_")
}

func videoProviderToDB(p contentv1.VideoProvider) string {
	return strings.TrimPrefix(p.String(), "VIDEO_PROVIDER_")
}

func questionTypeToDB(t contentv1.QuestionType) string {
	return strings.TrimPrefix(t.String(), "QUESTION_TYPE_")
}
