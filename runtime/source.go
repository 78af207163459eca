package runtime

import "oktasync/runtime/fetch"

// FetchConfig is the HTTP client configuration a source description implies:
// its credential header, rate-limit headers, known bucket limits and error
// body layout. Callers add timeouts, concurrency and the like.
func (s *SourceInfo) FetchConfig(baseURL, token string) fetch.Config {
	cfg := fetch.Config{
		BaseURL: baseURL,
		RateLimit: fetch.RateLimitHeaders{
			Limit:     s.RateLimitLimitHeader,
			Remaining: s.RateLimitRemainingHeader,
			Reset:     s.RateLimitResetHeader,
		},
		Errors: fetch.ErrorBody{
			Code:            s.ErrorCodePath,
			Summary:         s.ErrorSummaryPath,
			FeatureDisabled: s.FeatureDisabledCodes,
		},
		UserAgent: "oktasync",
	}
	if token != "" {
		cfg.Auth = fetch.HeaderToken(s.AuthHeader, s.AuthScheme, token)
	}
	if len(s.Buckets) > 0 {
		cfg.Buckets = map[string]int{}
		for _, b := range s.Buckets {
			cfg.Buckets[b.Name] = b.PerMinute
		}
	}
	return cfg
}
