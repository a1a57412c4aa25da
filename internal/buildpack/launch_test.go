package buildpack

import (
	"encoding/json"
	"slices"
	"testing"
)

func TestCommandUnmarshalJSON(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    Command
		wantErr bool
	}{
		{`["node", "server.js"]`, Command{"node", "server.js"}, false},
		{`"bundle exec rails s"`, Command{"bundle exec rails s"}, false},
		{`[]`, Command{}, false},
		{`42`, nil, true},
		{`[1, 2]`, nil, true},
	} {
		var c Command
		err := json.Unmarshal([]byte(tc.in), &c)
		if (err != nil) != tc.wantErr || (!tc.wantErr && !slices.Equal(c, tc.want)) {
			t.Errorf("%s: %q, %v", tc.in, c, err)
		}
	}
}
