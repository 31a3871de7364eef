import { describe, expect, it } from 'vitest';
import { BOS, EOS, emailText, emailTokens, nameChars, PAD, UNK, Vocab } from './text.js';

const RAW = [
  'From someone@example.com  Thu Aug 22 12:36:23 2002',
  'Return-Path: <someone@example.com>',
  'Subject: Re: FREE money',
  '\tfor you!',
  'Content-Type: text/html',
  '',
  '<html><!-- hidden words --><b>Click</b>&nbsp;here: you won $1,000 &amp; more!!</html>',
  "Don't wait.",
].join('\n');

describe('emailTokens (the spam tokeniser rule)', () => {
  it('keeps the subject (with its folded line) before the body and drops the other headers', () => {
    expect(emailText(RAW).startsWith('Re: FREE money\n\tfor you!\n<html>')).toBe(true);
    expect(emailText(RAW)).not.toMatch(/Return-Path|Content-Type/);
  });

  it('strips HTML tags, comments and entities, lower-cases and splits words, digits and ! $ % ?', () => {
    expect(emailTokens(RAW)).toEqual([
      're',
      'free',
      'money',
      'for',
      'you',
      '!',
      'click',
      'here',
      'you',
      'won',
      '$',
      '1',
      '000',
      'more',
      '!',
      '!',
      "don't",
      'wait',
    ]);
  });

  it('cuts to maxTokens (default 200) and treats text without headers as all body', () => {
    const long = Array.from({ length: 500 }, (_, i) => `w${i % 7 === 0 ? '' : 'x'}`).join(' ');
    expect(emailTokens(long)).toHaveLength(200);
    expect(emailTokens(RAW, 3)).toEqual(['re', 'free', 'money']);
    expect(emailTokens('Win a prize?\n\nNow!')).toEqual(['win', 'a', 'prize', '?', 'now', '!']);
  });
});

describe('nameChars', () => {
  it('lower-cases and splits into characters', () => {
    expect(nameChars(' Mary-Ann ')).toEqual(['m', 'a', 'r', 'y', '-', 'a', 'n', 'n']);
  });
});

describe('Vocab', () => {
  const seqs = [
    ['b', 'a', 'c'],
    ['a', 'b', 'a'],
    ['d', 'a', 'b'],
  ];

  it('puts <pad> at 0, <unk> at 1, then specials, then tokens by frequency (ties alphabetical)', () => {
    const v = Vocab.build(seqs);
    expect(v.tokens).toEqual([PAD, UNK, 'a', 'b', 'c', 'd']);
    const lm = Vocab.build(seqs, { specials: [BOS, EOS] });
    expect(lm.tokens.slice(0, 4)).toEqual([PAD, UNK, BOS, EOS]);
  });

  it('keeps tokens seen at least minFreq times; others encode as <unk>', () => {
    const v = Vocab.build(seqs, { minFreq: 2 });
    expect(v.tokens).toEqual([PAD, UNK, 'a', 'b']);
    expect(v.encode(['a', 'c', 'zzz', 'b'])).toEqual([2, 1, 1, 3]);
    expect(v.decode([3, 2, 0])).toEqual(['b', 'a', PAD]);
    expect(v.size).toBe(4);
  });

  it('rejects a token list without <pad> and <unk> first', () => {
    expect(() => new Vocab(['a', PAD])).toThrow(/expected "<pad>" at 0/);
  });
});
