import type { JsonObject } from '../../event-store/event-store.port';
import { extractEmail, normalizeSubject, type EmailFacts } from '../analysis/email';
import { findLookalike, type LookalikeMatch } from '../analysis/lookalike';
import { checkReputation, type Reputation } from '../analysis/reputation';
import { severityFor, tally, vendorSeverity, verdictOf } from '../analysis/scoring';
import { findGroup, groupEvidence, groupOf } from './grouping';
import type { Conclusion, Playbook, StepResults, TriageInput } from './playbook';

const json = (value: object) => JSON.parse(JSON.stringify(value)) as JsonObject;
const evidence = <T>(results: StepResults, key: string) => results.get(key)?.evidence as unknown as T;

interface CampaignEvidence {
  size: number;
  window_minutes: number;
  group_into: JsonObject | null;
}

/**
 * Phishing: who sent it, does the sender imitate one of the organisation's protected domains, is anything
 * on the block or allow lists, and is it one email of a campaign (same sender or subject to several
 * recipients within a window — folded into the campaign's first incident, which keeps the count).
 *
 * Scoring (0–100): the vendor's severity (info 0 … critical 40); a look-alike sender, reply-to or link
 * domain +50 (+60 for a homoglyph or IDN one); a blocked indicator +60; a reply-to on another domain than the
 * sender +15; a campaign of at least `campaign_size` emails +20; an allow-listed sender −40 (only without
 * look-alikes or blocked indicators). A campaign is judged by its worst email; a benign email joins none.
 */
export const phishingTriage: Playbook = {
  name: 'phishing_triage',
  description: 'Email phishing: sender and links, look-alike domains, reputation lists, campaigns',
  reevaluateOnAlert: true,
  steps: [
    {
      key: 'extract',
      run(input) {
        const email = extractEmail(input.alerts, input.incident.title);
        const subject = email.subject ? normalizeSubject(email.subject) : '';
        const keys = [email.sender ? `sender:${email.sender}` : null, subject.length >= 4 ? `subject:${subject}` : null].filter(
          (k): k is string => k !== null,
        );
        return { outcome: email.sender ? 'extracted' : 'no_sender', evidence: { ...json(email), correlation_keys: keys } };
      },
    },
    {
      key: 'lookalike',
      run(input, { results }) {
        const email = evidence<EmailFacts>(results, 'extract');
        const { protectedDomains, thresholds } = input.settings;
        const checked = [...new Set([email.sender_domain, email.reply_to_domain, ...email.domains].filter((d): d is string => !!d))];
        const matches = checked.map((d) => findLookalike(d, protectedDomains, thresholds.lookalikeDistance)).filter((m): m is LookalikeMatch => m !== null);
        const outcome = protectedDomains.length === 0 ? 'no_protected_domains' : matches.length > 0 ? 'lookalike_found' : 'none';
        return { outcome, evidence: json({ protected_domains: protectedDomains, checked, matches }) };
      },
    },
    {
      key: 'reputation',
      run(input, { results }) {
        const email = evidence<EmailFacts>(results, 'extract');
        const { allow, block } = input.settings;
        const domains = [...new Set([email.sender_domain, email.reply_to_domain, ...email.domains].filter((d): d is string => !!d))];
        const emails = [email.sender, email.reply_to].filter((e): e is string => !!e);
        const reputation = checkReputation({ emails, urls: email.urls, domains, ips: email.ips, hashes: email.hashes }, allow, block);
        const outcome = reputation.blocked.length > 0 ? 'blocked' : reputation.allowed.length > 0 ? 'allowed' : 'unknown';
        return { outcome, evidence: json(reputation) };
      },
    },
    {
      key: 'campaign',
      async run(input, { results, sightings }) {
        const keys = (results.get('extract')?.evidence.correlation_keys ?? []) as string[];
        const window = input.settings.thresholds.campaignWindowMinutes;
        const finding = await findGroup(sightings, keys, window * 60_000, 'campaign');
        const size = Math.max(input.group.count, finding.related.length + 1);
        const outcome = finding.group ? 'member_of_campaign' : size >= input.settings.thresholds.campaignSize ? 'campaign' : 'single';
        return { outcome, evidence: { keys, window_minutes: window, size, ...groupEvidence(finding) } };
      },
    },
  ],
  conclude(input: TriageInput, results: StepResults): Conclusion {
    const email = evidence<EmailFacts>(results, 'extract');
    const lookalikes = evidence<{ matches: LookalikeMatch[] }>(results, 'lookalike').matches;
    const reputation = evidence<Reputation>(results, 'reputation');
    const campaign = evidence<CampaignEvidence>(results, 'campaign');
    const { thresholds } = input.settings;

    const strongest = lookalikes.find((m) => m.technique === 'homoglyph') ?? lookalikes[0];
    const senderAllowed = reputation.allowed.some((hit) => hit.value === email.sender || hit.value === email.sender_domain);
    const benignEvidence = senderAllowed && lookalikes.length === 0 && reputation.blocked.length === 0;
    const worst = input.group.members.reduce<{ number: string; score: number } | null>((w, m) => (!w || m.score > w.score ? m : w), null);

    const own = tally([
      vendorSeverity(input.incident.vendorSeverity),
      strongest && {
        points: strongest.technique === 'homoglyph' || strongest.idn ? 60 : 50,
        reason: `${strongest.unicode} looks like protected ${strongest.protected} (${strongest.idn ? 'IDN ' : ''}${strongest.technique.replace('_', ' ')})`,
      },
      reputation.blocked.length > 0 && { points: 60, reason: `blocked: ${reputation.blocked.map((h) => h.value).join(', ')}` },
      email.reply_to_domain && email.sender_domain && email.reply_to_domain !== email.sender_domain && {
        points: 15,
        reason: `reply-to ${email.reply_to_domain} differs from sender ${email.sender_domain}`,
      },
      campaign.size >= thresholds.campaignSize && { points: 20, reason: `campaign of ${campaign.size} emails within ${campaign.window_minutes} min` },
      benignEvidence && { points: -40, reason: `allow-listed sender ${email.sender}` },
    ]);
    const { score, reasons } =
      worst && worst.score > own.score ? { score: worst.score, reasons: [...own.reasons, `campaign member ${worst.number} scored ${worst.score}`] } : own;
    const verdict = verdictOf(score, benignEvidence, thresholds);
    return {
      verdict,
      score,
      reasons,
      severity: severityFor(verdict, score, input.incident.vendorSeverity, false),
      escalated: false,
      // An allow-listed sender's email is closed as benign on its own, never folded into someone's campaign.
      groupInto: verdict === 'benign' ? null : groupOf(results.get('campaign')?.evidence),
    };
  },
};
