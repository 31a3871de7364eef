// ARPAbet (CMUdict's phoneme set) -> IPA. Browser-safe.

const IPA: Record<string, string> = {
  AA: 'ɑ',
  AE: 'æ',
  AH: 'ʌ',
  AO: 'ɔ',
  AW: 'aʊ',
  AY: 'aɪ',
  B: 'b',
  CH: 'tʃ',
  D: 'd',
  DH: 'ð',
  EH: 'ɛ',
  ER: 'ɝ',
  EY: 'eɪ',
  F: 'f',
  G: 'ɡ',
  HH: 'h',
  IH: 'ɪ',
  IY: 'i',
  JH: 'dʒ',
  K: 'k',
  L: 'l',
  M: 'm',
  N: 'n',
  NG: 'ŋ',
  OW: 'oʊ',
  OY: 'ɔɪ',
  P: 'p',
  R: 'ɹ',
  S: 's',
  SH: 'ʃ',
  T: 't',
  TH: 'θ',
  UH: 'ʊ',
  UW: 'u',
  V: 'v',
  W: 'w',
  Y: 'j',
  Z: 'z',
  ZH: 'ʒ',
};

/**
 * ARPAbet phonemes with CMUdict's stress digits -> an IPA string. Unstressed AH and ER are the
 * schwas ə and ɚ; primary (1) and secondary (2) stress are marked ˈ and ˌ before the vowel (not at
 * the syllable onset, which would need syllabification). Unknown symbols are kept as they are.
 */
export function arpabetToIpa(phonemes: readonly string[]): string {
  return phonemes
    .map((p) => {
      const m = /^([A-Z]+)([012])?$/.exec(p);
      if (!m) return p;
      const [, base, stress] = m;
      let ipa = IPA[base] ?? p;
      if (stress === '0' && base === 'AH') ipa = 'ə';
      if (stress === '0' && base === 'ER') ipa = 'ɚ';
      return (stress === '1' ? 'ˈ' : stress === '2' ? 'ˌ' : '') + ipa;
    })
    .join('');
}
