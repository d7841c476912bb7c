"""Well-known shapes of credentials, so that none reaches a log that is committed and shared.

`log` refuses a value that contains one and `check` flags it, naming the pattern and where it
starts but never echoing the value. Each pattern is a prefixed, structured token shape taken
from a maintained scanner (gitleaks' default rules, Yelp's detect-secrets plugins) or from the
issuer's documentation; the reference says which. Generic "high entropy" and "keyword = value"
detectors are left out on purpose: on short free-text notes they mostly flag ordinary words.

Why not detect-secrets itself: importing it alone costs `log` more than its whole start-up
budget, its per-note scan is hundreds of times slower than this screen (the figures are in
benchmarks/README.md, "Secret screen"), and its plugins have no Anthropic, OpenRouter, Groq,
xAI or Google shapes. Adding a pattern here is one entry in `PATTERNS`, with an example in the
tests.

Every regex but one starts with a literal, which Python's regex engine finds with a fast substring
search. Short prefixes that ordinary words can end in (`task-…`, `risk-…`, `diskSK…`) must
not follow a letter or digit: that test is a lookbehind placed just after the literal
(`_bounded`), because one placed before it would hide the literal from the engine and make
the search much slower.

`check` does not even run the regexes on most notes: it first screens a whole batch of values
at once (`screen`: a run of 16 key-like characters, or one of the rare literals `-----BEGIN`,
`://` and `GOCSPX-`), in a few passes of C code, and runs the patterns only on the values the
screen flags. The regexes are compiled on first use, so `log` pays for them only when there
is text to scan, or an error to print (cli/main.py redacts error lines with `redact`).
"""

from __future__ import annotations

import re
from typing import NamedTuple

from telemetry_csv import compiled


class SecretPattern(NamedTuple):
    name: str  # a stable identifier, the gitleaks rule id where there is one
    description: str  # what it is, for messages: "a GitHub token"
    regexes: tuple[str, ...]  # each starts with a literal, so that searching it is fast
    reference: str  # where the shape comes from


_AWS_SECRET_AFTER_PREFIX = (
    r"[\w.-]{0,20}?(?i:secret)[\w.-]{0,20}?[\s'\"]{0,3}[=:][\s'\"]{0,3}[A-Za-z0-9/+]{40}\b"
)
_GITLEAKS = "gitleaks config/gitleaks.toml rule "
_DETECT_SECRETS = "detect-secrets plugin "
_TRUFFLEHOG = "trufflehog pkg/detectors/"
_UUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_TOKEN = "[A-Za-z0-9_-]*[A-Za-z0-9_]{16}[A-Za-z0-9_-]*"  # a body with hyphens, and a run without


def _bounded(prefix: str, body: str) -> str:
    """`prefix` then `body`, the prefix not glued to a letter or digit before it: `sk-…` but not
    `task-…`. The lookbehind comes after the literal, which keeps the literal search fast."""
    literal = re.escape(prefix)
    return f"{literal}(?<![A-Za-z0-9]{literal}){body}"


PATTERNS: tuple[SecretPattern, ...] = (
    SecretPattern(
        "anthropic-api-key",
        "an Anthropic API key",
        (_bounded("sk-ant-", r"[a-z]{2,10}\d\d-" + _TOKEN),),
        _GITLEAKS
        + "anthropic-api-key, anthropic-admin-api-key; also the OAuth tokens `sk-ant-oat01-`, "
        + "`sk-ant-ort01-` of Claude Code: any `sk-ant-<word><2 digits>-` (shortened keys too)",
    ),
    SecretPattern(
        "openai-api-key",
        "an OpenAI API key",
        (_bounded("sk-", f"(?:(?:proj|svcacct|admin|service|None)-{_TOKEN}|[A-Za-z0-9]{{32,}})"),),
        _GITLEAKS
        + "openai-api-key; "
        + _DETECT_SECRETS
        + "OpenAIDetector; "
        + _TRUFFLEHOG
        + "openai (`sk-service-`); `sk-None-`: keys made without a project (OpenAI community "
        + "forum, 'Incorrect API is generated in the OpenAI account'; langflow-ai/langflow#12122)",
    ),
    SecretPattern(
        "langfuse-secret-key",
        "a Langfuse secret key",
        (_bounded("sk-lf-", _UUID + "(?![0-9A-Za-z])"),),
        _TRUFFLEHOG + "langfuse (`sk-lf-` and a UUID; its `pk-lf-` public key is no secret)",
    ),
    SecretPattern(
        "langsmith-api-key",
        "a LangSmith API key",
        (r"lsv2_(?:pt|sk)_[a-z0-9]{32}_[a-z0-9]{10}(?![A-Za-z0-9])",),
        _GITLEAKS + "langsmith-api-key; " + _TRUFFLEHOG + "langsmith",
    ),
    SecretPattern(
        "fireworks-api-key",
        "a Fireworks AI API key",
        # Issued as fw_ and 24 letters and digits, both cases: an identifier such as fw_update
        # or fw_firmwareversionnumbers (one case only) is not one.
        (
            _bounded(
                "fw_",
                "(?=[A-Za-z0-9]*[A-Z])(?=[A-Za-z0-9]*[a-z])[A-Za-z0-9]{20,48}(?![A-Za-z0-9_])",
            ),
        ),
        "Fireworks AI API keys (app.fireworks.ai, Settings > API keys): fw_ and 24 letters and "
        "digits of both cases",
    ),
    SecretPattern(
        "nvidia-api-key",
        "an NVIDIA API key",
        # 64 characters, among them (as in every real key) a run of 16 without a hyphen.
        ("nvapi-" + _TOKEN,),
        _TRUFFLEHOG + "nvapi (build.nvidia.com keys: nvapi- and 64 characters; shortened too)",
    ),
    SecretPattern(
        "elevenlabs-api-key",
        "an ElevenLabs API key",
        (_bounded("sk_", "[a-f0-9]{48}(?![A-Za-z0-9])"),),
        _TRUFFLEHOG + "elevenlabs v2 (sk_ and 48 hex digits)",
    ),
    SecretPattern(
        "claude-code-session-url",
        "a Claude Code session URL",
        (r"(?i:https?://claude\.ai/code/session_)[A-Za-z0-9]{16,}",),
        _GITLEAKS + "claude-code-session-url (a link that gives remote control of a session)",
    ),
    SecretPattern(
        "openrouter-api-key",
        "an OpenRouter API key",
        (_bounded("sk-or-v", r"\d+-[A-Za-z0-9]{16,}"),),
        "OpenRouter keys: sk-or-v1- and 64 hex digits",
    ),
    SecretPattern(
        "groq-api-key",
        "a Groq API key",
        (_bounded("gsk_", "[A-Za-z0-9]{20,}"),),
        "Groq console keys: gsk_ and 52 letters and digits",
    ),
    SecretPattern(
        "xai-api-key",
        "an xAI API key",
        (_bounded("xai-", "[A-Za-z0-9_]{20,}"),),
        _GITLEAKS + "xai-api-key (xai- and 80 characters; shortened keys too)",
    ),
    SecretPattern(
        "replicate-api-token",
        "a Replicate API token",
        (_bounded("r8_", "[A-Za-z0-9]{30,}"),),
        "Replicate API tokens: r8_ and 37 letters and digits",
    ),
    SecretPattern(
        "github-token",
        "a GitHub token",
        (r"gh[pousr]_[A-Za-z0-9]{30,}",),
        _GITLEAKS
        + "github-pat, github-oauth, github-app-token, github-refresh-token; "
        + _DETECT_SECRETS
        + "GitHubTokenDetector",
    ),
    SecretPattern(
        "github-fine-grained-pat",
        "a GitHub fine-grained personal access token",
        (r"github_pat_[A-Za-z0-9_]{22,}",),
        _GITLEAKS + "github-fine-grained-pat",
    ),
    SecretPattern(
        "gitlab-pat",
        "a GitLab personal access token",
        (r"glpat-[A-Za-z0-9_-]*[A-Za-z0-9_]{16}[A-Za-z0-9_-]*",),
        _GITLEAKS + "gitlab-pat; " + _DETECT_SECRETS + "GitLabTokenDetector",
    ),
    SecretPattern(
        "aws-access-token",
        "an AWS access key ID",
        # Also glued to the text around it (`keyAKIA…`, `AKIA…_prod`): only a longer run of
        # capitals and digits, which is no key ID, stops a match.
        tuple(
            prefix + r"[A-Z0-9]{16}(?![A-Z0-9])(?<!EXAMPLE)"
            for prefix in ("A3T[A-Z0-9]", "AKIA", "ASIA", "ABIA", "ACCA")
        ),
        _GITLEAKS + "aws-access-token (AWS's documented EXAMPLE keys are allowed, as there)",
    ),
    SecretPattern(
        "aws-secret-access-key",
        "an AWS secret access key",
        tuple(prefix + _AWS_SECRET_AFTER_PREFIX for prefix in ("aws", "AWS", "Aws")),
        _DETECT_SECRETS + "AWSKeyDetector (secret key next to its name)",
    ),
    SecretPattern(
        "slack-token",
        "a Slack token",
        (
            r"xox[abposrec]-[0-9A-Za-z-]*[0-9A-Za-z]{16}[0-9A-Za-z-]*",
            # The `d` cookie, URL-encoded: long enough that a run of 16 survives the escapes.
            r"xoxd-[0-9A-Za-z%_.+/=-]*[0-9A-Za-z_+/=]{16}[0-9A-Za-z%_.+/=-]*",
            r"xapp-\d-[A-Za-z0-9]+-\d+-[a-z0-9]{16,}",
        ),
        _GITLEAKS
        + "slack-bot-token, slack-user-token, slack-app-token, slack-legacy-*; "
        + "xoxc- client tokens and xoxd- session cookies of the Slack web client; "
        + _DETECT_SECRETS
        + "SlackDetector",
    ),
    SecretPattern(
        "slack-webhook-url",
        "a Slack webhook URL",
        (r"https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/+]{20,}",),
        _GITLEAKS + "slack-webhook-url; " + _DETECT_SECRETS + "SlackDetector",
    ),
    SecretPattern(
        "private-key",
        "a private key block",
        (r"-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----",),
        _GITLEAKS + "private-key; " + _DETECT_SECRETS + "PrivateKeyDetector",
    ),
    SecretPattern(
        "gcp-api-key",
        "a Google API key",
        (r"AIza[0-9A-Za-z_-]{0,19}[0-9A-Za-z_]{16}",),
        _GITLEAKS + "gcp-api-key",
    ),
    SecretPattern(
        "google-oauth-client-secret",
        "a Google OAuth client secret",
        # Only 28 characters: a hyphen or two may cut every run short, see SCREEN_LITERALS.
        (r"GOCSPX-[A-Za-z0-9_-]{24,}",),
        "Google Cloud OAuth client secrets: GOCSPX- and 28 characters",
    ),
    SecretPattern(
        "google-oauth-access-token",
        "a Google OAuth access token",
        (_bounded("ya29.", _TOKEN),),
        "Google OAuth 2.0 access tokens: ya29. and a long base64url body",
    ),
    SecretPattern(
        "stripe-access-token",
        "a Stripe secret or restricted key",
        (r"sk_(?:test|live|prod)_[A-Za-z0-9]{10,}", r"rk_(?:test|live|prod)_[A-Za-z0-9]{10,}"),
        _GITLEAKS + "stripe-access-token; " + _DETECT_SECRETS + "StripeDetector",
    ),
    SecretPattern(
        "webhook-signing-secret",
        "a webhook signing secret",
        (r"whsec_[A-Za-z0-9+/=]{24,}",),
        "Stripe webhook endpoint secrets and Svix (Clerk, Resend…) signing secrets: whsec_",
    ),
    SecretPattern(
        "jwt",
        "a JSON Web Token",
        (r"eyJ[A-Za-z0-9_]{13,}[A-Za-z0-9_-]*\.ey[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_\-+/=]*",),
        _GITLEAKS + "jwt; " + _DETECT_SECRETS + "JwtTokenDetector",
    ),
    SecretPattern(
        "huggingface-access-token",
        "a Hugging Face token",
        (r"hf_[A-Za-z]{34}\b", r"api_org_[A-Za-z]{34}\b"),
        _GITLEAKS + "huggingface-access-token, huggingface-organization-api-token",
    ),
    SecretPattern(
        "npm-access-token",
        "an npm access token",
        (r"npm_[A-Za-z0-9]{36}\b",),
        _GITLEAKS + "npm-access-token; " + _DETECT_SECRETS + "NpmDetector",
    ),
    SecretPattern(
        "pypi-upload-token",
        "a PyPI upload token",
        (r"pypi-AgE[IN][A-Za-z0-9_-]*[A-Za-z0-9_]{16}[A-Za-z0-9_-]*",),
        _GITLEAKS + "pypi-upload-token; " + _DETECT_SECRETS + "PypiTokenDetector",
    ),
    SecretPattern(
        "sendgrid-api-token",
        "a SendGrid API key",
        (r"SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{0,27}[A-Za-z0-9_]{16}",),
        _GITLEAKS + "sendgrid-api-token; " + _DETECT_SECRETS + "SendGridDetector",
    ),
    SecretPattern(
        "azure-storage-account-key",
        "an Azure storage account key",
        (r"AccountKey=[A-Za-z0-9+/=]{88}",),
        _DETECT_SECRETS + "AzureStorageKeyDetector",
    ),
    SecretPattern(
        "twilio-api-key",
        "a Twilio API key",
        (_bounded("SK", r"[0-9a-fA-F]{32}\b"),),
        _GITLEAKS + "twilio-api-key; " + _DETECT_SECRETS + "TwilioKeyDetector",
    ),
    SecretPattern(
        "perplexity-api-key",
        "a Perplexity API key",
        (r"pplx-[A-Za-z0-9]{48}",),
        _GITLEAKS + "perplexity-api-key",
    ),
    SecretPattern(
        "age-secret-key",
        "an age secret key",
        (r"AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}",),
        _GITLEAKS + "age-secret-key",
    ),
    SecretPattern(
        "url-with-password",
        "a password in a URL",
        (r"://[^\s:@/]*:[^\s:@/]+@",),  # also with no user: redis://:password@host
        _DETECT_SECRETS + "BasicAuthDetector",
    ),
)


class SecretMatch(NamedTuple):
    pattern: SecretPattern
    start: int  # 0-based index in the scanned text

    def describe(self) -> str:
        """Where and what, never the text itself."""
        return (
            f"it contains what looks like {self.pattern.description} ({self.pattern.name}) "
            f"at character {self.start + 1}; remove it (and revoke it if it is real): "
            "secrets must never reach a committed log"
        )


_compiled: list[tuple[re.Pattern[str], SecretPattern]] = []


def _patterns() -> list[tuple[re.Pattern[str], SecretPattern]]:
    # One search per regex: each starts with a literal, which the regex engine finds with a
    # fast substring search, whereas one big alternation would be tried at every character.
    if not _compiled:
        _compiled.extend(
            (re.compile(regex, re.ASCII), pattern)
            for pattern in PATTERNS
            for regex in pattern.regexes
        )
    return _compiled


def find_secret(text: str) -> SecretMatch | None:
    """The earliest well-known credential shape in `text`, or None."""
    if not _may_hold_secret(text):
        return None  # the common case, decided without compiling or running a regex
    found: SecretMatch | None = None
    for regex, pattern in _patterns():
        match = regex.search(text)
        if match is not None and (found is None or match.start() < found.start):
            found = SecretMatch(pattern, _url_start(text, match.start()))
    return found


def redact(text: str) -> str:
    """`text` with every credential shape in it replaced by `[redacted: <pattern name>]`: for
    messages that quote what the user typed (a command name, a path, a commit range)."""
    if not _may_hold_secret(text):
        return text
    spans = sorted(
        (
            (_url_start(text, match.start()), match.end(), pattern.name)
            for regex, pattern in _patterns()
            for match in regex.finditer(text)
        ),
        key=lambda span: (span[0], -span[1]),  # of two shapes at one place, the longer
    )
    parts = []
    position = 0
    for start, end, name in spans:
        if end <= position:
            continue  # inside a span already redacted
        parts.append(text[position : max(start, position)] + f"[redacted: {name}]")
        position = end
    return "".join(parts) + text[position:]


def _url_start(text: str, start: int) -> int:
    # A match at "://" is reported where its URL starts, at the scheme.
    if text.startswith("://", start):
        while start > 0 and (
            (text[start - 1].isascii() and text[start - 1].isalnum()) or text[start - 1] in "+.-"
        ):
            start -= 1
    return start


# The screen: every shape above contains a run of at least MIN_RUN "token" characters (letters,
# digits, _ + / =), or one of SCREEN_LITERALS (shapes whose body hyphens or escapes may cut
# into short runs); tests/test_secrets.py checks this for every
# pattern with generated matches. The hyphen is not a token character, so that model names
# such as claude-sonnet-4-20250514 do not trigger it; shapes whose body may hold hyphens insist
# on a run of 16 without one (real keys always have one). Ordinary notes rarely trigger the
# screen, and a value that passes it needs no regex at all.
MIN_RUN = 16
TOKEN_CHARACTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_+/="
# Each literal costs one more pass over the whole text, so only a short shape that hyphens can
# cut gets one; long tokens such as `ya29.` and `xoxd-` must show a run of 16 instead.
SCREEN_LITERALS = (b"-----BEGIN", b"://", b"GOCSPX-", b"sk-lf-")
_TOKEN_TABLE = bytes(ord("a") if chr(code) in TOKEN_CHARACTERS else ord(" ") for code in range(256))
_RUN = b"a" * MIN_RUN
_TOKEN_BYTES = TOKEN_CHARACTERS.encode("ascii")


def _may_hold_secret(text: str) -> bool:
    """`screen` for one value."""
    data = text.encode("utf-8", "surrogatepass")
    return _RUN in data.translate(_TOKEN_TABLE) or any(
        literal in data for literal in SCREEN_LITERALS
    )


def screen(values: list[str]) -> set[int]:
    """The indexes of `values` that might hold a credential, found in a few passes of C code
    over all of them at once (translate, find); `find_secret` then judges each one. The values
    hold no line break (notes and model names never do): they are joined with one."""
    if not values:
        return set()
    return screen_lines("\n".join(values).encode("utf-8", "surrogatepass"))


def screen_lines(block: bytes) -> set[int]:
    """`screen` for lines already joined and encoded: the numbers (from 0) of the lines of
    `block` that might hold a credential. Compiled (`_secrets_screen.c`: the block read a line
    at a time while the line is in cache) where it is built and wanted (`telemetry_csv.compiled`)."""
    module = compiled.load("telemetry_csv._secrets_screen")
    if module is not None:
        found: set[int] = module.lines(block, _TOKEN_BYTES, MIN_RUN, SCREEN_LITERALS)
        return found
    starts = []
    tokens = block.translate(_TOKEN_TABLE)
    position = tokens.find(_RUN)
    while position >= 0:
        starts.append(position)
        run_end = tokens.find(b" ", position)
        if run_end < 0:
            break
        position = tokens.find(_RUN, run_end)
    for literal in SCREEN_LITERALS:
        position = block.find(literal)
        while position >= 0:
            starts.append(position)
            position = block.find(literal, position + 1)
    found = set()
    line = previous = 0
    for position in sorted(starts):
        line += block.count(b"\n", previous, position)
        previous = position
        found.add(line)
    return found
