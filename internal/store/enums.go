package store

import (
	"strings"

	contentv1 "github.com/educacao-continuada/content-transfer/gen/educacao/content/v1"
)

// The database stores enums as their short upper-case names ('DRAFT'); the proto
// enums carry a type prefix (COURSE_STATUS_DRAFT). An unknown name becomes
// UNSPECIFIED, which CHECK constraints keep from happening.

func courseStatusFromDB(s string) contentv1.CourseStatus {
	return contentv1.CourseStatus(contentv1.CourseStatus_value["COURSE_STATUS_"+s])
}

func courseStatusToDB(s contentv1.CourseStatus) string {
	return strings.TrimPrefix(s.String(), "COURSE_STATUS_")
}

func videoProviderFromDB(s string) contentv1.VideoProvider {
	return contentv1.VideoProvider(contentv1.VideoProvider_value["VIDEO_PROVIDER_"+s])
}

func videoProviderToDB(p contentv1.VideoProvider) string {
	return strings.TrimPrefix(p.String(), "VIDEO_PROVIDER_")
}

func questionTypeFromDB(s string) contentv1.QuestionType {
	return contentv1.QuestionType(contentv1.QuestionType_value["QUESTION_TYPE_"+s])
}

func questionTypeToDB(t contentv1.QuestionType) string {
	return strings.TrimPrefix(t.String(), "QUESTION_TYPE_")
}
