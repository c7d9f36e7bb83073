"""Confirm which leaked credential bundles are live. The only package that touches the network.

Outcomes are a closed set (model.Outcome). Anything unexpected, a timeout or a
rate limit is `unknown`, never `invalid`. A bare developer token is always
`unverifiable`: since 2026-09-09 the Google Ads API ignores the
developer-token header, so only the OAuth material stored with it can be
checked. Endpoints come from the user's configuration or environment only.
"""
