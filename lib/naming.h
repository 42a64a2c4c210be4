/* naming: MAM release names (title cleaning, volumes, sanitising, the path budget). */
#ifndef MF_NAMING_H
#define MF_NAMING_H

#include <stddef.h>
#include <cjson/cJSON.h>

/* Rules from a naming file (data/naming.json, or MF_NAMING). */
struct mf_naming;

/*
 * Load rules from path; NULL path: $MF_NAMING (config), else the shipped naming.json.
 * Returns NULL with a message in err (of errsz) when the file is missing or malformed.
 * mf_naming_empty() gives rules with no lists (pure sanitising), for tests.
 */
struct mf_naming *mf_naming_load(const char *path, char *err, size_t errsz);
struct mf_naming *mf_naming_empty(void);
void mf_naming_free(struct mf_naming *n);
/*
 * Japanese names that author_map does not know written in romaji (lib/romaji): on (1) for
 * loaded rules, off for mf_naming_empty(); the tools set it from MF_TRANSLITERATE_JAPANESE.
 */
void mf_naming_set_romaji(struct mf_naming *n, int on);

/*
 * Each returns a malloc'd string (NULL only when out of memory).
 * title: preserve_exact first (returned as is); else the volume markers ("Vol. 3",
 *   "Volume 2", "Book 4", "Book XII", "Books 1-3", with a following ", Part N") and the
 *   phrases (format, genre, publisher) removed where they stand as whole words, a number
 *   that repeats the vol_N after it ("Title 12 vol_12") dropped, then cleanup (spaces,
 *   empty brackets, stray leading/trailing punctuation).  Never empty when the input is not.
 * series: the same, plus the series_suffixes patterns (POSIX ERE, case-insensitive).
 * author: author_map (an exact key, then each key replaced where it occurs); then, when
 *   romaji is on, the Japanese left written in romaji.
 * sanitize: the file-name rules: / \ | -> '-', ':' -> " -", '"' -> '\'', < > ? * and
 *   control characters removed, whitespace collapsed, leading/trailing dots and spaces
 *   stripped.
 */
char *mf_naming_title(const struct mf_naming *n, const char *title);
char *mf_naming_series(const struct mf_naming *n, const char *series);
char *mf_naming_author(const struct mf_naming *n, const char *author);
char *mf_naming_sanitize(const char *s);

/*
 * 1 when name credits someone who is not an author (naming.json author_roles: "X -
 * translator", "X (illustrator)", "X, editor", "Foreword by X", "with X"); a role word
 * inside a name ("John Translator Smith") is not one.  With bare, *bare gets the name
 * without its marker (malloc'd, NULL when out of memory) when it is a role.
 */
int mf_naming_is_role(const struct mf_naming *n, const char *name, char **bare);
/* The first string of authors (a JSON array) that is not a role, else the first; NULL. */
const char *mf_naming_first_author(const struct mf_naming *n, const cJSON *authors);

/*
 * The subtitle for the MAM JSON (malloc'd), or NULL when the rules drop it (or out of
 * memory): preserve_exact keeps it; subtitle_patterns.keep_patterns keep it; remove_patterns
 * drop it; so does being equal to a series (remove_if_matches_series); then each of
 * subtitle_redundancy_rules.rules, its {{series}} and {{title}} filled in, drops it
 * (drop_subtitle) or cuts what it matches (strip_match).  series: nseries names.
 */
char *mf_naming_subtitle(const struct mf_naming *n, const char *subtitle, const char *title,
    const char *const *series, size_t nseries);

/*
 * A path component that Windows reserves: its part before the first dot is CON, PRN, AUX,
 * NUL, COM1-COM9 or LPT1-LPT9 in any case ("con", "Nul.txt", "LPT3.x.y").  Returns that
 * part's length (where mf_naming_build adds "_", as pathvalidate does), 0 when not.
 */
size_t mf_naming_reserved(const char *component);

/*
 * The volume token: from position when it is a number form ("3", "1.5", "1-3", "1p2",
 * "3 part 1", "Book 3"; "1, Part 3", a part of a split book, is its part: vol_03; the
 * decimals of a range's end go: "1-3.5" is vol_01-03), else from the title ("Vol. 5",
 * "Volume 2, Part 1", "Books 1-3", "Book 4", a trailing number).  Written as "vol_03",
 * "vol_01.5", "vol_01-03", "vol_01p2" into out; "" when none.  Returns the length.
 */
size_t mf_naming_volume(const char *position, const char *title, char *out, size_t outsz);
/* Only the formatting of a number form ("3" -> "vol_03"); "" when it is not one. */
size_t mf_naming_volfmt(const char *position, char *out, size_t outsz);

/*
 * Series and position guessed from a title like "Overlord, Vol. 5" or "The Wandering
 * Inn: Book 2 - Subtitle".  1 when found (series malloc'd into *series, position into
 * pos), 0 when not.
 */
int mf_naming_series_from_title(const char *title, char **series, char *pos, size_t possz);

/* Unicode code points in a UTF-8 string (the unit of MF_MAX_PATH). */
size_t mf_utf8_chars(const char *s);

/* What a name is built from.  Strings may be NULL or empty. */
struct mf_name_in {
	const char	*title;
	const char	*series;
	const char	*position;	/* series position ("3", "1.5", "1-2") */
	const char	*year;
	const char	*author;	/* the first author */
	const char	*asin;
	const char	*tag;		/* ripper tag, folder only */
	size_t		 suffix_chars;	/* longest file suffix after the base, e.g. " - Part 01.m4b" */
	size_t		 suffix_bytes;
	size_t		 max_path;	/* budget for "folder/file", in characters */
};

#define MF_NAME_MAX	1024
struct mf_name_out {
	char		 base[MF_NAME_MAX];	/* the file base (files are base + suffix) */
	char		 folder[MF_NAME_MAX];	/* base + " [tag]" */
	int		 truncated;
	int		 ndropped;
	const char	*dropped[3];		/* "author", "year", "title" or "series" */
	int		 series_mode;
};

/*
 * Build the MAM name:
 *   series mode (a series and a volume): "{Series} vol_NN ({Year}) ({Author}) {ASIN.X}"
 *   otherwise:                           "{Title} ({Year}) ({Author}) {ASIN.X}"
 * and folder = base + " [tag]".  The longest path folder/base+suffix must fit max_path
 * characters and each component 255 bytes: drop the author, then the year, then cut the
 * title or series and end it with "...".  The volume, the ASIN and the tag are never
 * dropped.  A series ending in the volume's own number ("Title 12", vol_12) loses it.  A
 * name Windows reserves (mf_naming_reserved) gets "_" after the reserved part.
 * 0 on success; -1 with a message in err when it cannot fit or a part is empty.
 */
int mf_naming_build(const struct mf_naming *n, const struct mf_name_in *in,
    struct mf_name_out *out, char *err, size_t errsz);

#endif
