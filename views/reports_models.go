package views

// ReportsPage shows admins how the conversations of a range went: per
// day, and per form, skill and agent.
type ReportsPage struct {
	AgentPage
	// The filters as typed: From and To are dates (YYYY-MM-DD), To
	// included; FilterError says why they were refused.
	From, To    string
	Forms       []OptionView
	Skills      []OptionView
	Agents      []OptionView
	FilterError string
	// Empty says no conversation was created in the range.
	Empty bool
	Cut   bool
	Cards []ReportCard
	// Charts: conversations per day, the median first response per day,
	// and the ratings' distribution.
	Charts []BarChart
	Groups []ReportGroup
	// CSV links the same report as CSV, by day, form, skill or agent.
	CSV []ReportLink
}

// ReportCard is one headline number.
type ReportCard struct {
	Label, Value, Detail string
	TestID               string
}

// ReportLink is a labelled link.
type ReportLink struct {
	Label, URL string
}

// ReportGroup is a table of the report by form, skill or agent.
type ReportGroup struct {
	Title  string
	TestID string
	Rows   []ReportRow
}

// ReportRow is one line of a group: its name and formatted sums.
type ReportRow struct {
	Name                 string
	Conversations        string
	FirstMedian, FirstP9 string
	ResMedian, ResP90    string
	Rating               string
}

// BarChart is a bar chart drawn as SVG, its geometry computed by the
// handler: the view only writes it out. Bars are in a Width × Height box.
type BarChart struct {
	ID      string
	Title   string
	Summary string // what the chart shows, for screen readers
	Width   string
	Height  string
	Bars    []Bar
	// Labels are the x axis's (one per few bars), YLabel the top of the
	// scale.
	Labels   []ChartLabel
	YLabel   string
	Baseline string // the y of the x axis
}

// Bar is one bar with its label, shown as its tooltip.
type Bar struct {
	X, Y, W, H string
	Title      string
}

// ChartLabel is a label at X.
type ChartLabel struct {
	X, Y, Text string
}
