package inspect

import (
	"encoding/json"
	"fmt"
	"strings"
)

// decodeLabel decodes the JSON label key of labels into v; ok is false when
// the label is absent.
func decodeLabel(labels map[string]string, key string, v any) (bool, error) {
	raw, ok := labels[key]
	if !ok || strings.TrimSpace(raw) == "" {
		return false, nil
	}
	if err := json.Unmarshal([]byte(raw), v); err != nil {
		return true, fmt.Errorf("decoding label %s: %w", key, err)
	}
	return true, nil
}
