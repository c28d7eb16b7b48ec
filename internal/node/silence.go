package node

import (
	"context"

	"github.com/vigil-soc/vigil/internal/detect"
)

// silenceDetector builds the silent-source detector (nil when disabled).
func (n *Node) silenceDetector() (detect.Detector, error) { return nil, nil }

// silenceLoop checks live sources against the wall clock until ctx ends.
func (n *Node) silenceLoop(ctx context.Context) error {
	<-ctx.Done()
	return nil
}
