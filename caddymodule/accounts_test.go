package caddymodule

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shopsignal/caddy-amazon-capi/sandbox"
)

func accountsConfig(t *testing.T, endpoint, credentials string) string {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "Caddyfile")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`{
	admin off
}
http://shop.example {
	amazon_capi {
		endpoint   %[1]s
		token_url  %[1]s/auth/o2/token
		account_id ENTITY1X2Y3Z
		%[2]s
		event signup {
			type      SIGN_UP
			country   US
			match_key EMAIL body.email
		}
	}
	respond "ok"
}
`, endpoint, credentials)), 0o600)
	return cfg
}

func TestTheAccountsCommandListsTheDSPAdvertiserIDFromAmazon(t *testing.T) {
	sb := httptest.NewServer(sandbox.New(sandbox.Config{AccountID: "5550001234567", ClientID: "cid", ClientSecret: "sec", RefreshToken: "ref"}))
	defer sb.Close()
	cfg := accountsConfig(t, sb.URL, "client_id cid\n\t\tclient_secret sec\n\t\trefresh_token ref")

	var table bytes.Buffer
	if err := ListAccounts(&table, cfg, "", false); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"account_id in the config: ENTITY1X2Y3Z", "DSP ADVERTISER ID (use as account_id)", "5550001234567"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("the table lacks %q:\n%s", want, table.String())
		}
	}
	var out bytes.Buffer
	if err := ListAccounts(&out, cfg, "", true); err != nil {
		t.Fatal(err)
	}
	var found []DestinationAccounts
	if err := json.Unmarshal(out.Bytes(), &found); err != nil || len(found) != 1 || len(found[0].Accounts) != 1 ||
		found[0].Accounts[0].DSPAdvertiserIDs()[0] != "5550001234567" {
		t.Errorf("JSON %s (%v)", out.String(), err)
	}
}

func TestTheAccountsCommandSaysWhatIsMissing(t *testing.T) {
	sb := httptest.NewServer(sandbox.New(sandbox.Config{ClientID: "cid", ClientSecret: "sec", RefreshToken: "ref"}))
	defer sb.Close()
	err := ListAccounts(&bytes.Buffer{}, accountsConfig(t, sb.URL, "dry_run"), "", false)
	if err == nil || !strings.Contains(err.Error(), "no credentials") {
		t.Errorf("without credentials: %v", err)
	}
	err = ListAccounts(&bytes.Buffer{}, accountsConfig(t, sb.URL, "client_id cid\n\t\tclient_secret wrong\n\t\trefresh_token ref"), "", false)
	if err == nil || !strings.Contains(err.Error(), "access token") || strings.Contains(err.Error(), "wrong") {
		t.Errorf("with a wrong secret: %v", err)
	}
	closed := httptest.NewServer(nil)
	closed.Close()
	err = ListAccounts(&bytes.Buffer{}, accountsConfig(t, closed.URL, "client_id cid\n\t\taccess_token tok"), "", false)
	if err == nil || !strings.Contains(err.Error(), "querying advertiser accounts") {
		t.Errorf("without network: %v", err)
	}
}
