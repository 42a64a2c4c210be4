/* romaji: Japanese (kana and kanji) in a UTF-8 string written in Hepburn romaji, with kakasi. */
#ifndef MF_ROMAJI_H
#define MF_ROMAJI_H

/*
 * A malloc'd copy of s (valid UTF-8) in which each run of Japanese characters (kana,
 * kanji, 々, ー) is replaced by kakasi's reading, each word capitalised:
 * "理不尽な孫の手" -> "Rifujin Na Mago No Te".  Everything else is kept as it is; a run
 * kakasi cannot read (or one longer than 256 bytes) is kept too.  NULL when out of memory.
 * Serialised with a mutex (kakasi keeps global state); the dictionary is opened once.
 */
char *mf_romaji(const char *s);

/* 1 when s holds a character mf_romaji would rewrite. */
int mf_romaji_has_japanese(const char *s);

#endif
