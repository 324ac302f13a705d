package kustomer

import "testing"

func TestExpandReply(t *testing.T) {
	rc := ReplyContext{CustomerName: "Ada Lovelace", CustomerEmail: "ada@example.com", AgentName: "Grace Hopper", FormTitle: "Contact us",
		Attributes: Attributes{"orderNumberStr": "A-17", "teamSizeNum": 12.0, "emptyStr": ""}}
	for _, tt := range []struct{ body, want string }{
		{"Hi {{customer.firstName}}!", "Hi Ada!"},
		{"{{customer.name}} <{{customer.email}}>", "Ada Lovelace <ada@example.com>"},
		{"— {{agent.firstName}} ({{agent.name}}), {{form.title}}", "— Grace (Grace Hopper), Contact us"},
		{"Order {{attributes.orderNumberStr}} for {{ attributes.teamSizeNum }}", "Order A-17 for 12"},
		{"[{{attributes.emptyStr|none}}] [{{attributes.missingStr}}]", "[none] []"},
		{"no placeholders {not one}", "no placeholders {not one}"},
		{"{{customer.shoeSize}} stays", "{{customer.shoeSize}} stays"},
	} {
		if got := ExpandReply(tt.body, rc); got != tt.want {
			t.Errorf("ExpandReply(%q) = %q, want %q", tt.body, got, tt.want)
		}
	}
	if got := ExpandReply("Hi {{customer.firstName|there}},", ReplyContext{}); got != "Hi there," {
		t.Errorf("the fallback of an empty name: %q", got)
	}
}
