package flow

import (
	"bytes"
	"encoding/gob"
	"fmt"
)

// EncodeState gob-encodes an analyzer's state snapshot for
// MarshalBinary; what names the analyzer in the error.
func EncodeState(what string, snap any) ([]byte, error) {
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(snap); err != nil {
		return nil, fmt.Errorf("%s: save state: %w", what, err)
	}
	return b.Bytes(), nil
}

// DecodeState decodes a snapshot written by EncodeState into snap (a
// pointer) for UnmarshalBinary; what names the analyzer in the error.
func DecodeState(what string, data []byte, snap any) error {
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(snap); err != nil {
		return fmt.Errorf("%s: restore state: %w", what, err)
	}
	return nil
}
