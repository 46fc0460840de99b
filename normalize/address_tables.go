package normalize

import (
	_ "embed"
	"encoding/json"
	"sync"
)

// addressMapHelper is address_map_helper.json of Amazon's uploader, unchanged:
// github.com/aws-solutions/amazon-marketing-cloud-uploader-from-aws, path
// source/glue/library/address_map_helper.json, commit
// 0cbf8c1f74d87f8e26cd1900ffe0cf36a64a7cbc (Apache-2.0, Copyright Amazon.com, Inc. or
// its affiliates). Each table is a list of one-entry objects mapping an upper-case
// address word to its standard form.
//
//go:embed address_map_helper.json
var addressMapHelper []byte

// addressTableSets lists, by country, the tables whose words the uploader's address
// normaliser replaces, in its order; a later table wins over an earlier one for the
// same word. Every country starts with NumberIndicators and DirectionalWords.
var addressTableSets = map[string][]string{
	"US": {"USStreetSuffixes", "USSubBuildingDesignator"},
	"CA": {"DefaultStreetSuffixes"},
	"GB": {"UKOrganizationSuffixes", "UKStreetSuffixes", "UKSubBuildingDesignator"},
	"FR": {"FRStreetDesignator", "DefaultStreetSuffixes"},
	"DE": {"DefaultStreetSuffixes"},
	"ES": {"DefaultStreetSuffixes", "ESStreetPrefixes"},
	"IT": {"DefaultStreetSuffixes", "ITStreetPrefixes"},
	"JP": {"DefaultStreetSuffixes"},
	"IN": {"DefaultStreetSuffixes"},
}

// addressDefaultSet is used for countries the uploader does not support (it rejects
// them); it is what DE, JP and IN use.
var addressDefaultSet = addressTableSets["DE"]

// addressWordsOnce builds, once, the word replacements of each country (key "" for the
// default), merged so that the last table wins, as in the uploader's loop.
var addressWordsOnce = sync.OnceValue(func() map[string]map[string]string {
	var tables map[string][]map[string]string
	if err := json.Unmarshal(addressMapHelper, &tables); err != nil {
		panic("normalize: embedded address_map_helper.json: " + err.Error())
	}
	merge := func(set []string) map[string]string {
		words := map[string]string{}
		for _, name := range append([]string{"NumberIndicators", "DirectionalWords"}, set...) {
			list, ok := tables[name]
			if !ok {
				panic("normalize: address_map_helper.json has no table " + name)
			}
			for _, entry := range list {
				for k, v := range entry {
					words[k] = v
				}
			}
		}
		return words
	}
	out := map[string]map[string]string{"": merge(addressDefaultSet)}
	for country, set := range addressTableSets {
		out[country] = merge(set)
	}
	return out
})

// addressWords returns the word replacements for the country.
func addressWords(country string) map[string]string {
	all := addressWordsOnce()
	if words, ok := all[country]; ok {
		return words
	}
	return all[""]
}
