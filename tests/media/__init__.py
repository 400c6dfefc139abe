"""Tests of media input resolution: sniffing, the path sandbox, URL fetching, the resolver."""
