"""Values that are not indicators unless the caller asks for them (``include_benign``).

The lists are deliberately small, general and documented; they are not tuned to any report:

* ``REFERENCE_DOMAINS``: publishers of security research, code and malware-sample hosting
  front ends, standards bodies and encyclopaedias, vendor documentation and the largest
  consumer platforms.  Links to them in a write-up are references, not infrastructure.  A
  value on these domains that the author wrote *defanged* (``github[.]com/…``) is kept: the
  author marked it as hostile.  Matching is on the host or any parent domain.
* ``RESERVED_SUFFIXES``: RFC 2606 / RFC 6761 names (``example.com``, ``.test``, …).
* ``BENIGN_IPS``: public DNS resolvers that malware only uses to test connectivity.
* ``EMPTY_HASHES``: digests of the empty file.
* ``SYSTEM_FILE_NAMES``: Windows system binaries whose bare name says nothing.
"""

from __future__ import annotations

REFERENCE_DOMAINS = frozenset({
    # security research publishers and vendors
    "welivesecurity.com", "eset.com", "virusbulletin.com", "securelist.com", "kaspersky.com",
    "talosintelligence.com", "cisco.com", "mandiant.com", "fireeye.com", "crowdstrike.com",
    "paloaltonetworks.com", "trendmicro.com", "symantec.com", "broadcom.com", "sophos.com",
    "proofpoint.com", "checkpoint.com", "fortinet.com", "mcafee.com", "trellix.com",
    "sentinelone.com", "recordedfuture.com", "bleepingcomputer.com", "threatpost.com",
    "krebsonsecurity.com", "thehackernews.com", "darkreading.com", "securityweek.com",
    "emergingthreats.net", "proofpoint.net", "citizenlab.ca", "welivesecurity.net",
    # threat-intelligence services and sandboxes (links to reports about samples)
    "virustotal.com", "hybrid-analysis.com", "any.run", "app.any.run", "joesandbox.com",
    "urlscan.io", "shodan.io", "censys.io", "abuse.ch", "otx.alienvault.com",
    "malpedia.caad.fkie.fraunhofer.de", "misp-project.org", "circl.lu",
    # standards, vulnerability and technique catalogues
    "mitre.org", "cve.org", "nist.gov", "first.org", "cisa.gov", "us-cert.gov", "cert.org",
    "oasis-open.org", "ietf.org", "rfc-editor.org", "iana.org", "w3.org", "exploit-db.com",
    # code hosting and documentation
    "github.com", "github.io", "githubusercontent.com", "gitlab.com", "bitbucket.org",
    "readthedocs.io", "stackoverflow.com", "python.org", "pypi.org", "npmjs.com",
    # platform vendors and their documentation
    "microsoft.com", "apple.com", "google.com", "mozilla.org", "oracle.com", "adobe.com",
    # encyclopaedias and the largest consumer platforms
    "wikipedia.org", "youtube.com", "twitter.com", "x.com", "linkedin.com", "facebook.com",
    "instagram.com", "reddit.com", "medium.com",
})  # fmt: skip

RESERVED_SUFFIXES = frozenset({
    "example.com", "example.net", "example.org", "example", "test", "invalid", "localhost",
    "local", "localdomain", "internal", "home.arpa", "arpa",
})  # fmt: skip

BENIGN_IPS = frozenset({
    "8.8.8.8", "8.8.4.4", "1.1.1.1", "1.0.0.1", "9.9.9.9", "149.112.112.112",
    "208.67.222.222", "208.67.220.220", "2001:4860:4860::8888", "2001:4860:4860::8844",
    "2606:4700:4700::1111", "2606:4700:4700::1001",
})  # fmt: skip

EMPTY_HASHES = frozenset(
    {
        "d41d8cd98f00b204e9800998ecf8427e",
        "da39a3ee5e6b4b0d3255bfef95601890afd80709",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
        "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
    }
)

SYSTEM_FILE_NAMES = frozenset({
    "svchost.exe", "rundll32.exe", "regsvr32.exe", "explorer.exe", "cmd.exe",
    "powershell.exe", "pwsh.exe", "lsass.exe", "winlogon.exe", "services.exe", "csrss.exe",
    "smss.exe", "wininit.exe", "conhost.exe", "taskhost.exe", "taskhostw.exe", "dllhost.exe",
    "mshta.exe", "wscript.exe", "cscript.exe", "msiexec.exe", "notepad.exe", "calc.exe",
    "spoolsv.exe", "taskmgr.exe", "schtasks.exe", "reg.exe", "net.exe", "sc.exe",
    "kernel32.dll", "ntdll.dll", "user32.dll", "advapi32.dll", "ws2_32.dll", "wininet.dll",
    "shell32.dll", "ole32.dll", "msvcrt.dll", "gdi32.dll", "kernelbase.dll",
})  # fmt: skip


def on_domain(host: str, domains: frozenset[str]) -> bool:
    """True when ``host`` is one of ``domains`` or a subdomain of one."""
    labels = host.lower().rstrip(".").split(".")
    return any(".".join(labels[index:]) in domains for index in range(len(labels)))
