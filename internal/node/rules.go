package node

import (
	"context"
	"encoding/json"
	"time"

	"github.com/vigil-soc/vigil/internal/api"
	"github.com/vigil-soc/vigil/internal/detect/rules"
	"github.com/vigil-soc/vigil/internal/detect/sigma"
)

// settingDisabledRules holds the ids of rules switched off in the console
// or API, as a JSON list.
const settingDisabledRules = "rules.disabled_ids"

// disabledRules reads the rules switched off at run time.
func (n *Node) disabledRules(ctx context.Context) []string {
	v, err := n.State.GetSetting(ctx, settingDisabledRules)
	if err != nil || v == "" {
		return nil
	}
	var ids []string
	if err := json.Unmarshal([]byte(v), &ids); err != nil {
		n.Log.Warn("unreadable setting; ignoring it", "key", settingDisabledRules, "err", err)
		return nil
	}
	return ids
}

// rulesService lets the API switch rules and remembers the switches.
type rulesService struct{ n *Node }

var _ api.RulesService = rulesService{}

// Status implements api.RulesService.
func (r rulesService) Status() rules.Status { return r.n.Rules.Status() }

// Rules implements api.RulesService.
func (r rulesService) Rules() []*sigma.Rule { return r.n.Rules.Rules() }

// DisabledIDs implements api.RulesService.
func (r rulesService) DisabledIDs() []string { return r.n.Rules.DisabledIDs() }

// SetEnabled switches a rule and stores the list of switched-off rules.
func (r rulesService) SetEnabled(id string, enabled bool) error {
	if err := r.n.Rules.SetEnabled(id, enabled); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := json.Marshal(r.n.Rules.DisabledIDs())
	if err != nil {
		return err
	}
	return r.n.State.SetSetting(ctx, settingDisabledRules, string(b))
}
