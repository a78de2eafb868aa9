import { describe, expect, it } from 'vitest';
import { webhookUrlDisplay } from './webhook-url-display';

describe('webhookUrlDisplay', () => {
  it('shows an ordinary URL as it is: scheme, host, port and path', () => {
    expect(webhookUrlDisplay('https://siem.example.com/hooks/towline')).toBe('https://siem.example.com/hooks/towline');
    expect(webhookUrlDisplay('http://127.0.0.1:8080/a/b/')).toBe('http://127.0.0.1:8080/a/b/');
    expect(webhookUrlDisplay('https://[2001:4860::1]:8443/x')).toBe('https://[2001:4860::1]:8443/x');
    expect(webhookUrlDisplay('https://splunk.example.com:8088/services/collector/event')).toBe('https://splunk.example.com:8088/services/collector/event');
  });

  it('redacts every query value, keeping the names; a part without = is redacted whole', () => {
    expect(webhookUrlDisplay('https://a.example.com/hook?token=abc')).toBe('https://a.example.com/hook?token=[redacted]');
    expect(webhookUrlDisplay('https://a.example.com/?a=1&b=&c=x=y')).toBe('https://a.example.com/?a=[redacted]&b=[redacted]&c=[redacted]');
    expect(webhookUrlDisplay('https://a.example.com/hook?s3cr3t')).toBe('https://a.example.com/hook?[redacted]');
    expect(webhookUrlDisplay('https://a.example.com/hook?a=1;token=x')).toBe('https://a.example.com/hook?a=[redacted]');
    expect(webhookUrlDisplay('https://a.example.com/hook?')).toBe('https://a.example.com/hook');
  });

  it('redacts the secret of Slack incoming and workflow webhooks', () => {
    expect(webhookUrlDisplay('https://hooks.slack.com/services/T000/B000/XXXXsecretXXXX')).toBe('https://hooks.slack.com/services/T000/B000/[redacted]');
    expect(webhookUrlDisplay('https://hooks.slack.com/services/T000/B000/XXXXsecretXXXX/')).toBe('https://hooks.slack.com/services/T000/B000/[redacted]/');
    expect(webhookUrlDisplay('https://hooks.slack.com/triggers/T000/123/abcdef')).toBe('https://hooks.slack.com/triggers/T000/123/[redacted]');
    expect(webhookUrlDisplay('https://hooks.slack.com/workflows/T000/A000/123/abcdef')).toBe('https://hooks.slack.com/workflows/T000/A000/[redacted]/[redacted]');
    // However the path is mangled, its last segment never shows.
    expect(webhookUrlDisplay('https://hooks.slack.com/services/XXXXsecretXXXX')).toBe('https://hooks.slack.com/services/[redacted]');
    expect(webhookUrlDisplay('https://hooks.slack.com//services/T000//B000/XXXXsecretXXXX')).toBe('https://hooks.slack.com//services/T000//B000/[redacted]');
    // Host spelled with upper case or a trailing dot is the same host.
    expect(webhookUrlDisplay('https://HOOKS.Slack.com./services/T000/B000/XXXXsecretXXXX')).toBe('https://hooks.slack.com./services/T000/B000/[redacted]');
    expect(webhookUrlDisplay('https://hooks.slack-gov.com/services/T000/B000/XXXXsecretXXXX')).toBe('https://hooks.slack-gov.com/services/T000/B000/[redacted]');
  });

  it('redacts the token of Discord webhooks, keeping the webhook id', () => {
    expect(webhookUrlDisplay('https://discord.com/api/webhooks/123456/tok-en_secret')).toBe('https://discord.com/api/webhooks/123456/[redacted]');
    expect(webhookUrlDisplay('https://discord.com/api/v10/webhooks/123456/tok-en_secret/slack?wait=true')).toBe(
      'https://discord.com/api/v10/webhooks/123456/[redacted]/[redacted]?wait=[redacted]',
    );
    expect(webhookUrlDisplay('https://ptb.discordapp.com/api/webhooks/123456/tok-en_secret')).toBe('https://ptb.discordapp.com/api/webhooks/123456/[redacted]');
    expect(webhookUrlDisplay('https://discord.com/api/something/else')).toBe('https://discord.com/api/something/[redacted]');
  });

  it('redacts Teams connector paths, and the signature of Teams / Power Automate workflows', () => {
    expect(
      webhookUrlDisplay('https://contoso.webhook.office.com/webhookb2/1111@2222/IncomingWebhook/abcdef0123/3333/V2signature'),
    ).toBe('https://contoso.webhook.office.com/webhookb2/[redacted]/[redacted]/[redacted]/[redacted]/[redacted]');
    expect(webhookUrlDisplay('https://outlook.office.com/webhook/1111@2222/IncomingWebhook/abcdef/3333')).toBe(
      'https://outlook.office.com/webhook/[redacted]/[redacted]/[redacted]/[redacted]',
    );
    expect(
      webhookUrlDisplay(
        'https://prod-12.westeurope.logic.azure.com:443/workflows/0a1b/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=S3cr3t',
      ),
    ).toBe('https://prod-12.westeurope.logic.azure.com/workflows/0a1b/triggers/manual/paths/invoke?api-version=[redacted]&sp=[redacted]&sv=[redacted]&sig=[redacted]');
  });

  it("recognises a provider's path on any host (a relay, a proxy), and leaves look-alikes of other shapes alone", () => {
    expect(webhookUrlDisplay('http://127.0.0.1:8080/services/T000/B000/XXXXsecretXXXX?token=abc')).toBe('http://127.0.0.1:8080/services/T000/B000/[redacted]?token=[redacted]');
    expect(webhookUrlDisplay('https://relay.example.com/api/webhooks/123456/tok-en')).toBe('https://relay.example.com/api/webhooks/123456/[redacted]');
    expect(webhookUrlDisplay('https://relay.example.com/webhookb2/1111@2222/IncomingWebhook/ab/33')).toBe(
      'https://relay.example.com/webhookb2/[redacted]/[redacted]/[redacted]/[redacted]',
    );
    // Not those shapes: shown in full.
    expect(webhookUrlDisplay('https://hec.example.com:8088/services/collector/event')).toBe('https://hec.example.com:8088/services/collector/event');
    expect(webhookUrlDisplay('https://hooks.slack.com.example.net/hooks/visible')).toBe('https://hooks.slack.com.example.net/hooks/visible');
    expect(webhookUrlDisplay('https://notdiscord.com/webhooks/visible')).toBe('https://notdiscord.com/webhooks/visible');
    expect(webhookUrlDisplay('https://example.com/api/webhooks/github')).toBe('https://example.com/api/webhooks/github');
  });

  it('never carries credentials or a fragment, and shows something that is not a URL as [redacted]', () => {
    expect(webhookUrlDisplay('https://user:pass@a.example.com/x#frag')).toBe('https://a.example.com/x');
    expect(webhookUrlDisplay('not a url with a secret')).toBe('[redacted]');
  });
});
