package amazon

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// PathAdvertiserAccounts is the query that lists the advertiser accounts a
// Login with Amazon app may use. Amazon's own Events API sample
// (amzn/ads-advanced-tools-docs,
// amazon-ads-events-api-introduction/scripts/get_advertiser_accounts.py)
// finds the ID it sends in Amazon-Ads-AccountId with it: an account's
// alternateIds[].dspAdvertiserId.
const PathAdvertiserAccounts = "/adsApi/v1/query/advertiserAccounts"

// AdvertiserAccount is one account of the advertiserAccounts query, with
// the fields Amazon's sample reads.
type AdvertiserAccount struct {
	// AdvertiserAccountID is the global advertiser account ID.
	AdvertiserAccountID FlexString `json:"advertiserAccountId"`
	// DisplayName is the account's name.
	DisplayName string `json:"displayName,omitempty"`
	// CurrencyCode is the account's currency.
	CurrencyCode string `json:"currencyCode,omitempty"`
	// IsGlobalAccount is set for a global account.
	IsGlobalAccount bool `json:"isGlobalAccount,omitempty"`
	// AlternateIDs are the account's IDs per country and region; the
	// DSP advertiser ID among them is what Amazon's sample sends as the
	// account ID of events.
	AlternateIDs []AlternateID `json:"alternateIds,omitempty"`
}

// AlternateID is one of an account's IDs in a country or region.
type AlternateID struct {
	// CountryCode is the marketplace's country.
	CountryCode string `json:"countryCode,omitempty"`
	// Region is NA, EU or FE.
	Region string `json:"region,omitempty"`
	// ProfileID is the Ads API profile in that country.
	ProfileID FlexString `json:"profileId,omitempty"`
	// DSPAdvertiserID is the (numeric) DSP advertiser ID.
	DSPAdvertiserID FlexString `json:"dspAdvertiserId,omitempty"`
}

// DSPAdvertiserIDs returns the account's DSP advertiser IDs, in order, once each.
func (a AdvertiserAccount) DSPAdvertiserIDs() []string {
	var out []string
	for _, alt := range a.AlternateIDs {
		id := string(alt.DSPAdvertiserID)
		if id != "" && !contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// FlexString is a JSON string or number, kept as text (Amazon's IDs come
// as either).
type FlexString string

// UnmarshalJSON takes a string or a number.
func (f *FlexString) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = FlexString(s)
		return nil
	}
	if string(b) == "null" {
		*f = ""
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*f = FlexString(n)
	return nil
}

// maxAccountPages bounds the pages Accounts follows.
const maxAccountPages = 50

// ErrMoreAccounts comes with the accounts of the first pages when Amazon
// has more than Accounts follows.
var ErrMoreAccounts = fmt.Errorf("Amazon lists more than %d pages of advertiser accounts; only the first are shown", maxAccountPages)

// Accounts lists the advertiser accounts the client's credentials may use,
// following nextToken, as Amazon's sample does.
func (c *Client) Accounts(ctx context.Context) ([]AdvertiserAccount, error) {
	var all []AdvertiserAccount
	next := ""
	for page := 0; page < maxAccountPages; page++ {
		accounts, token, err := c.accountsPage(ctx, next)
		if err != nil {
			return nil, err
		}
		all = append(all, accounts...)
		if token == "" {
			return all, nil
		}
		next = token
	}
	return all, ErrMoreAccounts
}

func (c *Client) accountsPage(ctx context.Context, next string) ([]AdvertiserAccount, string, error) {
	query := map[string]any{"isGlobalAccountFilter": map[string]any{"include": []bool{true}}, "maxResults": 100}
	if next != "" {
		query["nextToken"] = next
	}
	body, _ := json.Marshal(query)
	tok, err := tokenWithin(ctx, c.Tokens)
	if err != nil {
		return nil, "", fmt.Errorf("getting an access token: %w", scrubTokenError(err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(c.Endpoint, "/")+PathAdvertiserAccounts, bytes.NewReader(body))
	if err != nil {
		return nil, "", fmt.Errorf("building the accounts query: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	req.Header.Set("Amazon-Advertising-API-ClientId", c.ClientID)
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, "", fmt.Errorf("querying advertiser accounts: %w", err)
	}
	defer resp.Body.Close()
	raw, err := readAnswer(resp)
	if err != nil {
		return nil, "", fmt.Errorf("reading Amazon's answer (status %d): %w", resp.StatusCode, err)
	}
	if resp.StatusCode != http.StatusOK {
		res := c.parse(resp, raw, 0)
		return nil, "", fmt.Errorf("Amazon answered the accounts query with %d %s %s", resp.StatusCode, res.Code, res.Message)
	}
	var page struct {
		AdvertiserAccounts []AdvertiserAccount `json:"advertiserAccounts"`
		NextToken          string              `json:"nextToken"`
	}
	if err := json.Unmarshal(raw, &page); err != nil {
		return nil, "", fmt.Errorf("Amazon's accounts answer is not the expected JSON: %w", err)
	}
	return page.AdvertiserAccounts, page.NextToken, nil
}
