package assistant

import "github.com/handoff/handoff/kustomer"

// Demo returns the demo assistant "qualify" that greets the sales form: a
// button question for the team size (setting teamSizeNum), an attribute
// question for companyStr when the form left it empty, an article deflection,
// a business-hours check and a transfer to the "sales" skill. It needs the
// conversation attributes teamSizeNum and companyStr and the skill "sales".
// testdata/qualify.yaml is the same definition as YAML for handoff.yaml; a
// test keeps the two equal.
func Demo() []Assistant {
	weekday := []string{"09:00-17:00"}
	return []Assistant{{
		ID:         "qualify",
		Name:       "Qualify",
		PublicName: "Sam from Sales",
		AvatarURL:  "/static/img/logo.svg",
		Start:      "welcome",
		Schedule: &kustomer.Schedule{
			TimeZone: "America/New_York",
			Weekly: map[string][]string{
				"monday":    weekday,
				"tuesday":   weekday,
				"wednesday": weekday,
				"thursday":  weekday,
				"friday":    weekday,
			},
			Holidays: []string{"2026-12-25", "2027-01-01"},
		},
		Steps: []Step{
			{ID: "welcome", Type: StepMessage, Next: "teamSize",
				Text: kustomer.NewText("Hi, I'm Sam. Two quick questions so the right specialist can help you.")},
			{ID: "teamSize", Type: StepButtons, Text: kustomer.NewText("How big is the team that would use it?"),
				Options: []ButtonOption{
					{Label: kustomer.NewText("1-10 people"), Payload: "small", Next: "company", Set: map[string]string{"teamSizeNum": "5"}},
					{Label: kustomer.NewText("11-50 people"), Payload: "medium", Next: "company", Set: map[string]string{"teamSizeNum": "30"}},
					{Label: kustomer.NewText("More than 50"), Payload: "large", Next: "company", Set: map[string]string{"teamSizeNum": "100"}},
				}},
			{ID: "company", Type: StepAttribute, Attribute: "companyStr", SkipIfSet: true,
				Text: kustomer.NewText("Which company are you with?"), Next: "articles"},
			{ID: "articles", Type: StepDeflection,
				Text: kustomer.NewText("While I find a specialist, these often answer the first questions."),
				Articles: []Article{
					{ID: "pricing", Title: kustomer.NewText("Plans and pricing"), URL: "https://example.com/pricing"},
					{ID: "security", Title: kustomer.NewText("Security and compliance"), URL: "https://example.com/security"},
				},
				Helped: "thanks", NotHelped: "hours"},
			{ID: "thanks", Type: StepEnd, Text: kustomer.NewText("Glad that helped! Start a new chat any time.")},
			{ID: "hours", Type: StepHours, Open: "toSales", Closed: "afterHours"},
			{ID: "afterHours", Type: StepMessage, Next: "toSales",
				Text: kustomer.NewText("Our sales team is offline now (Monday to Friday, 9:00 to 17:00 New York time). Leave your question here and a specialist will answer first thing.")},
			{ID: "toSales", Type: StepTransfer, Skill: "sales",
				Text: kustomer.NewText("Thanks! A sales specialist will join this chat.")},
		},
	}}
}
