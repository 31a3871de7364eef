import { describe, expect, it } from 'vitest';
import { fnv1a } from '../split.js';
import { G2pVocab, g2pSplit, g2pWords, splitWords } from './data.js';
import { editDistance, errorRates } from './metrics.js';

describe('g2p data', () => {
  it('keeps words of A-Z, apostrophe, period and hyphen; joins alternates; drops the rest and duplicates', () => {
    const { words, dropped } = g2pWords({
      READ: 'R IY1 D',
      'READ(1)': 'R EH1 D',
      'READ(2)': 'R IY1 D',
      "'BOUT": 'B AW1 T',
      'X-RAY': 'EH1 K S R EY2',
      'A.': 'EY1',
      A42128: 'EY1 F AO1 R',
      '{BRACE': 'B R EY1 S',
      '"QUOTE': 'K W OW1 T',
    });
    expect(words).toEqual([
      {
        word: 'READ',
        prons: [
          ['R', 'IY1', 'D'],
          ['R', 'EH1', 'D'],
        ],
      },
      { word: "'BOUT", prons: [['B', 'AW1', 'T']] },
      { word: 'X-RAY', prons: [['EH1', 'K', 'S', 'R', 'EY2']] },
      { word: 'A.', prons: [['EY1']] },
    ]);
    expect(dropped).toEqual(['A42128', '{BRACE', '"QUOTE']);
  });

  it('splits by fnv1a("rnnkit-examples/g2p/" + WORD) % 10 (values computed by tooling/golden/g2p_referee.py)', () => {
    expect(fnv1a('rnnkit-examples/g2p/ABACHA')).toBe(247138090);
    expect(fnv1a('rnnkit-examples/g2p/X-RAY')).toBe(3134790031);
    expect([
      g2pSplit('ABACHA'),
      g2pSplit('HELLO'),
      g2pSplit('X-RAY'),
      g2pSplit("'BOUT"),
      g2pSplit('A.'),
    ]).toEqual(['test', 'test', 'val', 'val', 'train']);
    const s = splitWords([
      { word: 'HELLO', prons: [['HH']] },
      { word: 'A.', prons: [['EY1']] },
    ]);
    expect(s.test.map((w) => w.word)).toEqual(['HELLO']);
    expect(s.train.map((w) => w.word)).toEqual(['A.']);
  });

  it('vocabularies: pad/unk + sorted letters; pad/bos/eos + sorted phonemes; unknown letters -> <unk>', () => {
    const v = G2pVocab.fromWords([
      { word: 'BA', prons: [['B', 'AA1']] },
      { word: 'AB', prons: [['AE1', 'B']] },
    ]);
    expect(v.graphemes).toEqual(['<pad>', '<unk>', 'A', 'B']);
    expect(v.phonemes).toEqual(['<pad>', '<s>', '</s>', 'AA1', 'AE1', 'B']);
    expect([v.bos, v.eos]).toEqual([1, 2]);
    expect(v.encodeWord('abz')).toEqual([2, 3, 1]);
    expect(v.encodePron(['B', 'ZH'])).toEqual([5, -1]);
    expect(v.decodePron([3, 5])).toEqual(['AA1', 'B']);
  });
});

describe('g2p metrics', () => {
  it('edit distance', () => {
    expect(editDistance([], ['A'])).toBe(1);
    expect(editDistance(['K', 'AE1', 'T'], ['K', 'AE1', 'T'])).toBe(0);
    expect(editDistance(['K', 'AE1', 'T'], ['K', 'AH0', 'T', 'S'])).toBe(2);
    expect(editDistance('kitten'.split(''), 'sitting'.split(''))).toBe(3);
  });

  it('WER counts a word right when any reference matches; PER uses the closest reference', () => {
    const refs = [
      [
        ['R', 'IY1', 'D'],
        ['R', 'EH1', 'D'],
      ],
      [['K', 'AE1', 'T']],
      [['D', 'AO1', 'G', 'Z']],
    ];
    const r = errorRates(
      [
        ['R', 'EH1', 'D'],
        ['K', 'AH0', 'T'],
        ['D', 'AO1', 'G'],
      ],
      refs,
    );
    expect(r.wer).toBeCloseTo(2 / 3, 10);
    expect(r.per).toBeCloseTo((0 + 1 + 1) / (3 + 3 + 4), 10);
    expect(r.words).toBe(3);
  });
});

describe('arpabetToIpa', () => {
  it('maps ARPAbet with stress to IPA', async () => {
    const { arpabetToIpa } = await import('./ipa.js');
    expect(arpabetToIpa(['HH', 'AH0', 'L', 'OW1'])).toBe('həlˈoʊ');
    expect(arpabetToIpa(['W', 'ER1', 'L', 'D'])).toBe('wˈɝld');
    expect(arpabetToIpa(['B', 'AH1', 'T', 'ER0'])).toBe('bˈʌtɚ');
    expect(arpabetToIpa(['TH', 'IH2', 'NG', '?'])).toBe('θˌɪŋ?');
  });
});
