package kustomer

// Observer is told what the Engine stored, for metrics. Its methods must be
// cheap and must not block.
type Observer interface {
	// ConversationCreated counts a hand-off from formID ("" for the API
	// without a form).
	ConversationCreated(formID string)
	// MessageStored counts a stored message.
	MessageStored(m Message)
	// AttachmentStored counts the bytes of an uploaded file.
	AttachmentStored(size int64)
}

type noObserver struct{}

func (noObserver) ConversationCreated(string) {}
func (noObserver) MessageStored(Message)      {}
func (noObserver) AttachmentStored(int64)     {}
