package intel

import (
	"context"
	"time"
)

// Batch is what one fetch of a source delivered.
type Batch struct {
	Indicators []Indicator
	// Problems are records the reader skipped, with reasons.
	Problems []Problem
	// Full means Indicators are the source's whole current set: indicators
	// it delivered before and not now are withdrawn. Otherwise they are
	// additions and updates (TAXII added_after paging) and Cursor resumes
	// after them.
	Full   bool
	Cursor string
}

// Source fetches the indicators of one feed. cursor is the Cursor of the
// previous batch ("" the first time); a source that always delivers its
// whole set ignores it and returns Full batches. Fetch must honour ctx.
type Source interface {
	Fetch(ctx context.Context, cursor string) (Batch, error)
}

// SourceStatus is a source's fetch history as the store keeps it.
type SourceStatus struct {
	Name        string    `json:"name"`
	Kind        string    `json:"kind"`
	Cursor      string    `json:"cursor,omitempty"`
	LastAttempt time.Time `json:"last_attempt,omitzero"`
	LastSuccess time.Time `json:"last_success,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
	// Failures counts consecutive failed fetches.
	Failures   int `json:"failures"`
	Indicators int `json:"indicators"`
	// Problems counts the records the last fetch skipped; LastProblems
	// holds the first of them.
	Problems     int       `json:"problems"`
	LastProblems []Problem `json:"last_problems,omitempty"`
}

// Fetched is the outcome of one fetch that the store records.
type Fetched struct {
	Source, Kind string
	At           time.Time
	// Err is the fetch error; Batch is ignored when it is set.
	Err   error
	Batch Batch
}
