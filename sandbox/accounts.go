package sandbox

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
)

// PathAdvertiserAccounts is Amazon's advertiser-accounts query, which
// Amazon's own Events API sample uses to find the ID that goes in
// Amazon-Ads-AccountId (amzn/ads-advanced-tools-docs,
// amazon-ads-events-api-introduction/scripts/get_advertiser_accounts.py;
// docs/amazon.md "The account ID" [H]).
const PathAdvertiserAccounts = "/adsApi/v1/query/advertiserAccounts"

// DemoDSPAdvertiserID is the dspAdvertiserId the advertiser-accounts query
// lists when Config.AccountID is unset (and the events endpoints then take
// any account ID, this one included).
const DemoDSPAdvertiserID = "5550000000001"

// demoAdvertiserAccountID is the listed account's advertiserAccountId.
const demoAdvertiserAccountID = "amzn1.ads-account.g.sandbox"

// AdvertiserAccountsQuery is the body of POST /adsApi/v1/query/advertiserAccounts
// as Amazon's sample sends it:
//
//	{"isGlobalAccountFilter":{"include":[true]},"maxResults":100}
//
// and, for the next page, with "nextToken" from the previous answer.
type AdvertiserAccountsQuery struct {
	// IsGlobalAccountFilter keeps the accounts whose isGlobalAccount is in
	// Include; when absent, every account is listed.
	IsGlobalAccountFilter *BoolFilter `json:"isGlobalAccountFilter,omitempty"`
	// MaxResults is the page size; when present it must be at least 1.
	MaxResults *int `json:"maxResults,omitempty"`
	// NextToken asks for the page after the one that returned it.
	NextToken string `json:"nextToken,omitempty"`
}

// BoolFilter keeps the items whose flag is one of Include.
type BoolFilter struct {
	// Include lists the accepted values.
	Include []bool `json:"include"`
}

// AdvertiserAccounts is the answer to the advertiser-accounts query, with
// the fields Amazon's sample (get_advertiser_accounts.py, see
// PathAdvertiserAccounts) reads. The sandbox lists one account:
//
//	{"advertiserAccounts":[{
//	  "advertiserAccountId":"amzn1.ads-account.g.sandbox",
//	  "displayName":"Amazon CAPI sandbox advertiser",
//	  "currencyCode":"USD",
//	  "isGlobalAccount":true,
//	  "alternateIds":[{"countryCode":"US","region":"NA","dspAdvertiserId":"5550000000001"}]
//	}]}
//
// dspAdvertiserId is Config.AccountID (a string of digits for a real DSP
// advertiser; the sandbox echoes whatever is configured) or
// DemoDSPAdvertiserID; it is what the sample tells the user to put in
// Amazon-Ads-AccountId. region and countryCode follow Config.Region: NA/US
// (USD), EU/GB (GBP) or FE/JP (JPY). There is never a nextToken.
type AdvertiserAccounts struct {
	// AdvertiserAccounts are the accounts of this page.
	AdvertiserAccounts []AdvertiserAccount `json:"advertiserAccounts"`
	// NextToken, when set, asks for the next page.
	NextToken string `json:"nextToken,omitempty"`
}

// AdvertiserAccount is one account of the advertiser-accounts answer.
type AdvertiserAccount struct {
	// AdvertiserAccountID is the global account ID (amzn1.ads-account.g.…).
	AdvertiserAccountID string `json:"advertiserAccountId"`
	// DisplayName is the account's name.
	DisplayName string `json:"displayName"`
	// CurrencyCode is the account's currency.
	CurrencyCode string `json:"currencyCode"`
	// IsGlobalAccount says whether it is a global account.
	IsGlobalAccount bool `json:"isGlobalAccount"`
	// AlternateIDs are the account's IDs per region and country.
	AlternateIDs []AlternateID `json:"alternateIds"`
}

// AlternateID is one of an account's regional IDs.
type AlternateID struct {
	// CountryCode is the marketplace country, e.g. US.
	CountryCode string `json:"countryCode"`
	// Region is NA, EU or FE.
	Region string `json:"region"`
	// ProfileID is the advertising profile in that country; the sandbox
	// has none and leaves it out.
	ProfileID json.Number `json:"profileId,omitempty"`
	// DSPAdvertiserID is the DSP advertiser ID, the value for
	// Amazon-Ads-AccountId.
	DSPAdvertiserID string `json:"dspAdvertiserId,omitempty"`
}

// serveAdvertiserAccounts answers the advertiser-accounts query. It checks
// the call as the events endpoints do: POST, a JSON body, a valid bearer
// token (else 401) and a client header. Amazon's sample sends
// Amazon-Advertising-API-ClientId; the Ads API v1 operations name
// Amazon-Ads-ClientId (schema parameters ClientIdHeader), so either is
// taken. No Amazon-Ads-AccountId is needed: finding it is the point.
func (s *Server) serveAdvertiserAccounts(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodPost) {
		return
	}
	q, cerr := s.readAccountsQuery(r)
	if cerr != nil {
		writeError(w, cerr.status, cerr.code, cerr.message)
		return
	}
	out := AdvertiserAccounts{AdvertiserAccounts: []AdvertiserAccount{}}
	if acct := s.account(); q.IsGlobalAccountFilter == nil || includes(q.IsGlobalAccountFilter.Include, acct.IsGlobalAccount) {
		out.AdvertiserAccounts = append(out.AdvertiserAccounts, acct)
	}
	writeJSON(w, http.StatusOK, out)
}

// readAccountsQuery checks the call and decodes its body.
func (s *Server) readAccountsQuery(r *http.Request) (AdvertiserAccountsQuery, *callError) {
	var q AdvertiserAccountsQuery
	if cerr := checkJSON(r); cerr != nil {
		return q, cerr
	}
	if !s.validToken(bearer(r)) {
		return q, refuse(http.StatusUnauthorized, "the bearer token in the Authorization header is missing, unknown or expired")
	}
	header := "Amazon-Advertising-API-ClientId"
	if r.Header.Get(header) == "" && r.Header.Get("Amazon-Ads-ClientId") != "" {
		header = "Amazon-Ads-ClientId"
	}
	if cerr := checkHeader(r, header, s.cfg.ClientID); cerr != nil {
		return q, cerr
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<16+1))
	if err != nil || len(raw) > 1<<16 {
		return q, refuse(http.StatusBadRequest, "the request body could not be read or is too large")
	}
	if err := decodeOne(raw, &q); err != nil {
		return q, refuse(http.StatusBadRequest, "the body must be a JSON object such as {\"isGlobalAccountFilter\":{\"include\":[true]},\"maxResults\":100}: "+err.Error())
	}
	switch {
	case q.MaxResults != nil && *q.MaxResults < 1:
		return q, refuse(http.StatusBadRequest, "maxResults must be at least 1")
	case q.NextToken != "":
		return q, refuse(http.StatusBadRequest, "nextToken was not issued by this sandbox (it never has a next page)")
	}
	return q, nil
}

// account is the one account the sandbox lists.
func (s *Server) account() AdvertiserAccount {
	id := s.cfg.AccountID
	if id == "" {
		id = DemoDSPAdvertiserID
	}
	region, country, currency := "NA", "US", "USD"
	switch strings.ToLower(strings.TrimSpace(s.cfg.Region)) {
	case "eu":
		region, country, currency = "EU", "GB", "GBP"
	case "fe":
		region, country, currency = "FE", "JP", "JPY"
	}
	return AdvertiserAccount{
		AdvertiserAccountID: demoAdvertiserAccountID,
		DisplayName:         "Amazon CAPI sandbox advertiser",
		CurrencyCode:        currency,
		IsGlobalAccount:     true,
		AlternateIDs:        []AlternateID{{CountryCode: country, Region: region, DSPAdvertiserID: id}},
	}
}

func includes(list []bool, b bool) bool {
	for _, x := range list {
		if x == b {
			return true
		}
	}
	return false
}
