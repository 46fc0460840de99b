package caddymodule

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/shopsignal/caddy-amazon-capi/amazon"
)

func accountsCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "accounts --config <Caddyfile> [--json]",
		Short: "Lists the advertiser accounts the config's credentials may use, with the ID to use as account_id",
		RunE: func(c *cobra.Command, _ []string) error {
			config, _ := c.Flags().GetString("config")
			adapter, _ := c.Flags().GetString("adapter")
			asJSON, _ := c.Flags().GetBool("json")
			return ListAccounts(os.Stdout, config, adapter, asJSON)
		},
	}
	c.Flags().StringP("config", "c", "Caddyfile", "the Caddyfile or JSON config whose amazon_capi credentials to use")
	c.Flags().StringP("adapter", "a", "", "config adapter (default: caddyfile unless the file ends in .json)")
	c.Flags().Bool("json", false, "print JSON instead of a table")
	return c
}

// DestinationAccounts is what `caddy amazon-capi accounts` found for one
// destination of the config.
type DestinationAccounts struct {
	// Destination is account_id@host, as logs and metrics name it.
	Destination string `json:"destination"`
	// ConfiguredAccountID is the config's account_id.
	ConfiguredAccountID string `json:"configured_account_id"`
	// Accounts are the accounts Amazon listed.
	Accounts []amazon.AdvertiserAccount `json:"accounts"`
}

// ListAccounts asks Amazon, with each destination's credentials, for the
// advertiser accounts they may use, and writes them out. It fails with a
// clear error when a destination has no credentials or Amazon cannot be
// reached.
func ListAccounts(out io.Writer, config, adapter string, asJSON bool) error {
	handlers, err := loadHandlers(config, adapter)
	if err != nil {
		return err
	}
	var found []DestinationAccounts
	seen := map[string]bool{}
	for _, h := range handlers {
		s, err := h.Destination.resolveSettings()
		if err != nil {
			return err
		}
		if seen[s.name+s.clientID] {
			continue
		}
		seen[s.name+s.clientID] = true
		accounts, err := accountsOf(s)
		if errors.Is(err, amazon.ErrMoreAccounts) {
			fmt.Fprintln(os.Stderr, "note:", err)
		} else if err != nil {
			return fmt.Errorf("destination %s: %w", s.label(), err)
		}
		found = append(found, DestinationAccounts{Destination: s.label(), ConfiguredAccountID: s.accountID, Accounts: accounts})
	}
	if asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(found)
	}
	return writeAccountsTable(out, found)
}

func accountsOf(s settings) ([]amazon.AdvertiserAccount, error) {
	if s.clientID == "" || (s.accessToken == "" && (s.clientSecret == "" || s.refreshToken == "")) {
		return nil, errors.New("no credentials: the amazon_capi block needs client_id and client_secret + refresh_token (or access_token); are its {env.*} variables set in this shell?")
	}
	httpClient := outboundClient()
	tokens, err := amazon.NewTokenSource(amazon.TokenConfig{
		ClientID: s.clientID, ClientSecret: s.clientSecret, RefreshToken: s.refreshToken,
		AccessToken: s.accessToken, TokenURL: s.tokenURL, HTTP: httpClient,
	})
	if err != nil {
		return nil, err
	}
	client := &amazon.Client{Endpoint: s.endpoint, ClientID: s.clientID, Tokens: tokens, HTTP: httpClient}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return client.Accounts(ctx)
}

func writeAccountsTable(out io.Writer, found []DestinationAccounts) error {
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	for _, d := range found {
		fmt.Fprintf(w, "destination %s (account_id in the config: %s)\n", d.Destination, d.ConfiguredAccountID)
		if len(d.Accounts) == 0 {
			fmt.Fprintln(w, "  no advertiser account: the app's user may use none (check the LWA scope advertising::campaign_management)")
			continue
		}
		fmt.Fprintln(w, "  DSP ADVERTISER ID (use as account_id)\tADVERTISER ACCOUNT ID\tNAME\tCURRENCY\t")
		for _, a := range d.Accounts {
			ids := strings.Join(a.DSPAdvertiserIDs(), ", ")
			if ids == "" {
				ids = "(none: not a DSP account)"
			}
			fmt.Fprintf(w, "  %s\t%s\t%s\t%s\t\n", ids, a.AdvertiserAccountID, a.DisplayName, a.CurrencyCode)
		}
	}
	return w.Flush()
}
