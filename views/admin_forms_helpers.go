package views

import "strings"

// originsSource says where a form's allowed origins come from: handoff.yaml,
// or this page (with handoff.yaml's list it replaced).
func originsSource(f AdminForm) string {
	if !f.OriginsOverridden {
		return "(from handoff.yaml)"
	}
	return "(set here; handoff.yaml: " + orDefault(strings.Join(f.DefaultOrigins, " "), "none") + ")"
}

// originsDescribedBy lists the ids describing the origins textarea: its help
// and, when refused, its error.
func originsDescribedBy(f AdminForm) string {
	ids := "origins-help-" + f.ID
	if f.OriginsError != "" {
		ids += " origins-error-" + f.ID
	}
	return ids
}

// settingLabel names a form setting in the audit log.
func settingLabel(setting string) string {
	switch setting {
	case "assistant", "":
		return "Assistant"
	case "allowedOrigins":
		return "Allowed origins"
	}
	return setting
}
