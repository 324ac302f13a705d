package views

// AdminLabelsPage lists the labels, with the form that adds one.
type AdminLabelsPage struct {
	AgentPage
	Labels []AdminLabelRow
	New    LabelForm
}

// AdminLabelRow is one label of the list.
type AdminLabelRow struct {
	ID, Name, Color string
	EditURL         string
}

// LabelForm adds or edits a label, every error beside its field.
type LabelForm struct {
	Action string
	Name   string
	Color  string
	Colors []string
	Errors map[string]string // by field: name, color, form
	Submit string
}

// AdminLabelEditPage edits one label.
type AdminLabelEditPage struct {
	AgentPage
	Form      LabelForm
	DeleteURL string
}
