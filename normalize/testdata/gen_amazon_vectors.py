#!/usr/bin/env python3
"""Generate amazon-vectors.json: normalisation test vectors taken from Amazon's
own reference normaliser code, so the Go port can be held to them.

Reference code
    repository: https://github.com/aws-solutions/amazon-marketing-cloud-uploader-from-aws
    commit:     0cbf8c1f74d87f8e26cd1900ffe0cf36a64a7cbc
    path:       source/glue/library
    phonenumbers (Python): 8.12.57 (Debian bookworm's python3-phonenumbers);
                the version actually used is written into the output file.

None of Amazon's code is copied here: it is imported from the folder given
with --library. The normaliser for each match-key type is chosen the way the
uploader's Glue job does it (source/glue/library/transform.py,
NormalizationPatterns): ADDRESS -> AddressNormalizer(country),
STATE -> StateNormalizer(country), POSTAL (Amazon's "ZIP") ->
ZipNormalizer(country), PHONE -> PhoneNormalizer(), EMAIL ->
EmailNormalizer(), CITY -> CityNormalizer(), anything else (FIRST_NAME,
LAST_NAME) -> DefaultNormalizer(); the result is `.normalize(v).normalized_record`.
Differences from the Glue job, on purpose:
  * each normaliser is built on its own. (NormalizationPatterns builds an
    AddressNormalizer for every field, so an unlisted country raises for every
    type; the job refuses such countries earlier anyway.) Inputs with an
    unlisted country (NL, BR) therefore exercise the generic rules; ADDRESS
    with such a country raises ValueError and is skipped (reported on stderr).
  * transform.py passes values that already look like a SHA-256 hex digest
    through unchanged; that is not a normaliser rule and is not covered here.

PHONE vectors carry two extra fields. Amazon's PhoneNormalizer prepends "+"
and parses without a region, so it rejects most national-format numbers. The
Go port completes national numbers with the event's country, so
`completed` = E.164 digits (no "+") of phonenumbers.parse(input, country)
when that parses and is_possible_number() holds, else ""; plus
`completed_sha256`.

Regenerate (from the repository root; needs Debian's python3-phonenumbers,
run with /usr/bin/python3):

    apt-get update && apt-get install -y python3-phonenumbers
    M=/work/.mirror/aws-solutions+amazon-marketing-cloud-uploader-from-aws/repo  # or a clone of the URL above
    mkdir -p /tmp/amazon-ref
    git -C "$M" archive 0cbf8c1f74d87f8e26cd1900ffe0cf36a64a7cbc source/glue/library | tar -x -C /tmp/amazon-ref
    /usr/bin/python3 normalize/testdata/gen_amazon_vectors.py \\
        --library /tmp/amazon-ref/source/glue/library \\
        --out normalize/testdata/amazon-vectors.json

The output is deterministic: vectors sorted by type (in the order EMAIL,
PHONE, FIRST_NAME, LAST_NAME, ADDRESS, CITY, STATE, POSTAL), then country,
then input (code point order); JSON with a fixed key order, UTF-8, no ASCII escaping, trailing newline.
"""

import argparse
import contextlib
import hashlib
import io
import json
import os
import sys

REPOSITORY = "https://github.com/aws-solutions/amazon-marketing-cloud-uploader-from-aws"
COMMIT = "0cbf8c1f74d87f8e26cd1900ffe0cf36a64a7cbc"
LIBRARY_PATH = "source/glue/library"
GENERATED_BY = "normalize/testdata/gen_amazon_vectors.py"
EXPECTED_PHONENUMBERS = "8.12.57"

# git blob ids of the reference files at COMMIT, to make sure the right code
# is being run.
EXPECTED_BLOBS = {
    "address_map_helper.json": "65953f76f38a6c8d08f386215ebfa13db15f6308",
    "address_normalizer.py": "beedec9857a3fa76d4baee26619a4d65fe4fe487",
    "city_normalizer.py": "c724234eb8e2db515a474e066db8ff91b966fb47",
    "default_normalizer.py": "70388fdba9147537af30a8892a605c3053062976",
    "email_normalizer.py": "942bd59379f20bfa4d6e1700c64dadec5996f160",
    "phone_normalizer.py": "c5674735542eb337a5c8afff470066d5c98d8e89",
    "state_normalizer.py": "2360d2c9a673d88c3e7d23d455457f5d0c9a80a0",
    "zip_normalizer.py": "ff7443c1968399425c02c3c56c45600a2e00020c",
}

TYPES = ["EMAIL", "PHONE", "FIRST_NAME", "LAST_NAME", "ADDRESS", "CITY", "STATE", "POSTAL"]

# (type, country, input). Invented people and addresses; phone numbers are
# from fictional/drama ranges where a country has one.
INPUTS = [
    # ------------------------------------------------------------------ EMAIL
    ("EMAIL", "US", "jane.doe@example.com"),
    ("EMAIL", "US", "  Jane.Doe@Example.COM  "),
    ("EMAIL", "US", "JOHN.SMITH@EXAMPLE.COM"),
    ("EMAIL", "US", "john+newsletter@example.com"),
    ("EMAIL", "US", "john.smith+orders@gmail.example"),
    ("EMAIL", "US", "mary_ann_o'neil@example.org"),
    ("EMAIL", "US", "first-last@sub.example.co"),
    ("EMAIL", "US", "not-an-email"),
    ("EMAIL", "US", "@x.com"),
    ("EMAIL", "US", ""),
    ("EMAIL", "US", "   "),
    ("EMAIL", "US", "jane doe@example.com"),
    ("EMAIL", "US", "<jane@example.com>"),
    ("EMAIL", "US", "jane@"),
    ("EMAIL", "US", "jane@@example.com"),
    ("EMAIL", "US", "a@b@c.example"),
    ("EMAIL", "US", "\"quoted\"@example.com"),
    ("EMAIL", "US", "jane@example.com."),
    ("EMAIL", "CA", "Francois.Tremblay@Example.CA"),
    ("EMAIL", "CA", "françois.tremblay@example.ca"),
    ("EMAIL", "GB", "oliver.twist_1990@example.co.uk"),
    ("EMAIL", "GB", "Oliver.Twist+Shop@Example.Co.Uk"),
    ("EMAIL", "DE", "jöhn@exämple.de"),
    ("EMAIL", "DE", "JÖRG.MÜLLER@EXAMPLE.DE"),
    ("EMAIL", "DE", "strasse@straße.example"),
    ("EMAIL", "DE", "jo\u0308rg@example.de"),
    ("EMAIL", "FR", "zoé.lefèvre@example.fr"),
    ("EMAIL", "FR", "contact!promo@example.fr"),
    ("EMAIL", "IT", "giulia.rossi@example.it"),
    ("EMAIL", "IT", "giulia.rossi@example.it\u00a0"),
    ("EMAIL", "ES", "josé.núñez@example.es"),
    ("EMAIL", "JP", "taro.yamada@example.jp"),
    ("EMAIL", "JP", "山田太郎@example.jp"),
    ("EMAIL", "JP", "\uff54\uff41\uff52\uff4f@example.jp"),
    ("EMAIL", "IN", "priya.sharma123@example.in"),
    ("EMAIL", "IN", "PRIYA.SHARMA@EXAMPLE.IN "),
    ("EMAIL", "NL", "jan.de.vries@example.nl"),
    ("EMAIL", "BR", "joão.silva@example.com.br"),
    ("EMAIL", "US", "İlknur@example.com"),
    ("EMAIL", "US", "jane.doe@example.com;"),
    # ------------------------------------------------------------------ PHONE
    ("PHONE", "US", "+1 206 555 0100"),
    ("PHONE", "US", "+1 (206) 555-0100"),
    ("PHONE", "US", "12065550100"),
    ("PHONE", "US", "2065550100"),
    ("PHONE", "US", "(206) 555-0100"),
    ("PHONE", "US", "206-555-0100"),
    ("PHONE", "US", "206.555.0100"),
    ("PHONE", "US", "+1 206 555 0100 ext 12"),
    ("PHONE", "US", "206-555-0100 x123"),
    ("PHONE", "US", "+1-800-FLOWERS"),
    ("PHONE", "US", "555-0100"),
    ("PHONE", "US", "001 206 555 0100"),
    ("PHONE", "US", "011 44 20 7946 0958"),
    ("PHONE", "US", " +1 206 555 0100"),
    ("PHONE", "US", "+12065550100"),
    ("PHONE", "US", "123"),
    ("PHONE", "US", ""),
    ("PHONE", "CA", "+1 416 555 0199"),
    ("PHONE", "CA", "(416) 555-0199"),
    ("PHONE", "CA", "1-604-555-0142"),
    ("PHONE", "GB", "+44 20 7946 0958"),
    ("PHONE", "GB", "+44 (0)20 7946 0958"),
    ("PHONE", "GB", "020 7946 0958"),
    ("PHONE", "GB", "0044 20 7946 0958"),
    ("PHONE", "GB", "07700 900123"),
    ("PHONE", "GB", "+447700900123"),
    ("PHONE", "GB", "447700900123"),
    ("PHONE", "DE", "+49 30 123456"),
    ("PHONE", "DE", "030 123456"),
    ("PHONE", "DE", "+49 (0)30 123456"),
    ("PHONE", "DE", "0049 151 23456789"),
    ("PHONE", "DE", "0151 23456789"),
    ("PHONE", "DE", "+49-89-1234567"),
    ("PHONE", "FR", "+33 6 12 34 56 78"),
    ("PHONE", "FR", "06 12 34 56 78"),
    ("PHONE", "FR", "06.12.34.56.78"),
    ("PHONE", "FR", "0033 1 42 68 53 00"),
    ("PHONE", "FR", "33612345678"),
    ("PHONE", "IT", "+39 06 1234 5678"),
    ("PHONE", "IT", "06 1234 5678"),
    ("PHONE", "IT", "312 345 6789"),
    ("PHONE", "IT", "+39 312 345 6789"),
    ("PHONE", "ES", "+34 612 345 678"),
    ("PHONE", "ES", "612 345 678"),
    ("PHONE", "ES", "91 123 45 67"),
    ("PHONE", "ES", "0034 912 345 678"),
    ("PHONE", "JP", "+81 90-1234-5678"),
    ("PHONE", "JP", "090-1234-5678"),
    ("PHONE", "JP", "03-1234-5678"),
    ("PHONE", "JP", "+81 3 1234 5678"),
    ("PHONE", "JP", "\uff10\uff19\uff10\u2010\uff11\uff12\uff13\uff14\u2010\uff15\uff16\uff17\uff18"),
    ("PHONE", "IN", "+91 98765 43210"),
    ("PHONE", "IN", "098765 43210"),
    ("PHONE", "IN", "98765 43210"),
    ("PHONE", "IN", "+91-11-2345-6789"),
    ("PHONE", "IN", "919876543210"),
    ("PHONE", "NL", "+31 20 123 4567"),
    ("PHONE", "NL", "06 12345678"),
    ("PHONE", "BR", "+55 11 91234-5678"),
    ("PHONE", "BR", "(11) 91234-5678"),
    # ------------------------------------------------------------- FIRST_NAME
    ("FIRST_NAME", "US", "Jane"),
    ("FIRST_NAME", "US", "  JANE  "),
    ("FIRST_NAME", "US", "Mary-Jane"),
    ("FIRST_NAME", "US", "Mary Ann"),
    ("FIRST_NAME", "US", "J.R."),
    ("FIRST_NAME", "US", "Jane2"),
    ("FIRST_NAME", "US", "---"),
    ("FIRST_NAME", "US", ""),
    ("FIRST_NAME", "CA", "François"),
    ("FIRST_NAME", "CA", "Zoë"),
    ("FIRST_NAME", "GB", "Siobhán"),
    ("FIRST_NAME", "DE", "Jürgen"),
    ("FIRST_NAME", "DE", "JÜRGEN"),
    ("FIRST_NAME", "DE", "Ju\u0308rgen"),
    ("FIRST_NAME", "DE", "Björk"),
    ("FIRST_NAME", "DE", "Käthe"),
    ("FIRST_NAME", "FR", "Hélène"),
    ("FIRST_NAME", "FR", "Jean-Luc"),
    ("FIRST_NAME", "IT", "Niccolò"),
    ("FIRST_NAME", "ES", "José"),
    ("FIRST_NAME", "ES", "María José"),
    ("FIRST_NAME", "JP", "太郎"),
    ("FIRST_NAME", "JP", "はなこ"),
    ("FIRST_NAME", "JP", "Hanako"),
    ("FIRST_NAME", "IN", "Priya"),
    ("FIRST_NAME", "IN", "प्रिया"),
    ("FIRST_NAME", "NL", "Æsa"),
    ("FIRST_NAME", "NL", "Søren"),
    ("FIRST_NAME", "BR", "João"),
    ("FIRST_NAME", "US", "İlknur"),
    ("FIRST_NAME", "US", "\uff2a\uff41\uff4e\uff45"),
    # -------------------------------------------------------------- LAST_NAME
    ("LAST_NAME", "US", "Doe"),
    ("LAST_NAME", "US", "O'Neil"),
    ("LAST_NAME", "US", "Smith-Jones"),
    ("LAST_NAME", "US", "van der Berg"),
    ("LAST_NAME", "US", "McDonald III"),
    ("LAST_NAME", "CA", "Tremblay"),
    ("LAST_NAME", "CA", "Bélanger"),
    ("LAST_NAME", "GB", "Øster"),
    ("LAST_NAME", "GB", "ÆSA"),
    ("LAST_NAME", "DE", "Müller"),
    ("LAST_NAME", "DE", "MÜLLER"),
    ("LAST_NAME", "DE", "Mu\u0308ller"),
    ("LAST_NAME", "DE", "Straße"),
    ("LAST_NAME", "DE", "GROẞ"),
    ("LAST_NAME", "DE", "Schröder"),
    ("LAST_NAME", "DE", "Bäcker"),
    ("LAST_NAME", "FR", "Lefèvre"),
    ("LAST_NAME", "FR", "Le Ça"),
    ("LAST_NAME", "IT", "D'Angelo"),
    ("LAST_NAME", "ES", "Ñúñez"),
    ("LAST_NAME", "ES", "García Pérez"),
    ("LAST_NAME", "JP", "山田"),
    ("LAST_NAME", "JP", "ヤマダ"),
    ("LAST_NAME", "JP", "Yamada"),
    ("LAST_NAME", "IN", "Sharma"),
    ("LAST_NAME", "IN", "शर्मा"),
    ("LAST_NAME", "NL", "de Vries"),
    ("LAST_NAME", "BR", "Gonçalves"),
    # ---------------------------------------------------------------- ADDRESS
    ("ADDRESS", "US", "123 Main Street Apt 4"),
    ("ADDRESS", "US", "123 Main St., Apt. 4"),
    ("ADDRESS", "US", "123 MAIN ST APT 4"),
    ("ADDRESS", "US", "  123   main street   apartment 4  "),
    ("ADDRESS", "US", "123 Main St #4"),
    ("ADDRESS", "US", "123 Main St Apt#4"),
    ("ADDRESS", "US", "500 North Michigan Avenue, Suite 1200"),
    ("ADDRESS", "US", "1600 Pennsylvania Ave NW"),
    ("ADDRESS", "US", "742 Evergreen Terrace"),
    ("ADDRESS", "US", "10 E 21st St Fl 3"),
    ("ADDRESS", "US", "45-B Elm Boulevard"),
    ("ADDRESS", "US", "12-14 Harbor Drive"),
    ("ADDRESS", "US", "PO Box 123"),
    ("ADDRESS", "US", "Oak St Apt 3-B"),
    ("ADDRESS", "US", "12-A Oak St Apt 3-B"),
    ("ADDRESS", "US", "1 Infinite Loop (Building 2)"),
    ("ADDRESS", "US", "c/o Jane Doe, 55 Water St"),
    ("ADDRESS", "US", "123\u00a0Main\u00a0Street"),
    ("ADDRESS", "US", "No. 5 Lake Road"),
    ("ADDRESS", "CA", "100 Queen Street West"),
    ("ADDRESS", "CA", "Apt 5, 123 Main St"),
    ("ADDRESS", "CA", "1234 Rue Sainte-Catherine O"),
    ("ADDRESS", "CA", "88 Harbour Road, Unit 7"),
    ("ADDRESS", "GB", "10 Downing Street"),
    ("ADDRESS", "GB", "Flat 2, 5 High Road"),
    ("ADDRESS", "GB", "221B Baker Street"),
    ("ADDRESS", "GB", "Apartment 4, 1 The Mews"),
    ("ADDRESS", "GB", "Example Services Ltd, 3 Church Lane"),
    ("ADDRESS", "GB", "Flat 3/2, 14 Park Avenue"),
    ("ADDRESS", "DE", "Hauptstraße 5"),
    ("ADDRESS", "DE", "Hauptstr. 5"),
    ("ADDRESS", "DE", "HAUPTSTRASSE 5"),
    ("ADDRESS", "DE", "Friedrichstraße 123, 3. OG"),
    ("ADDRESS", "DE", "Unter den Linden 77"),
    ("ADDRESS", "DE", "Müllerweg 12a"),
    ("ADDRESS", "FR", "12 rue de la Paix"),
    ("ADDRESS", "FR", "12, Rue de la Paix"),
    ("ADDRESS", "FR", "8 Avenue des Champs-Élysées"),
    ("ADDRESS", "FR", "3 allee des Tilleuls"),
    ("ADDRESS", "FR", "15 bd Saint-Germain"),
    ("ADDRESS", "FR", "Lieu-dit Le Moulin"),
    ("ADDRESS", "FR", "5 Imp. du Four"),
    ("ADDRESS", "IT", "Via Roma 10"),
    ("ADDRESS", "IT", "V. Roma 10"),
    ("ADDRESS", "IT", "Piazza Navona 1"),
    ("ADDRESS", "IT", "P.zza Navona 1"),
    ("ADDRESS", "IT", "Corso Vittorio Emanuele II, 15"),
    ("ADDRESS", "IT", "Viale Monza 3, int. 4"),
    ("ADDRESS", "ES", "Calle Mayor 3, 2º"),
    ("ADDRESS", "ES", "C/ Mayor 3, 2º B"),
    ("ADDRESS", "ES", "Avda. de la Constitución 5"),
    ("ADDRESS", "ES", "Plaza Mayor 1"),
    ("ADDRESS", "ES", "Paseo de la Castellana 100"),
    ("ADDRESS", "ES", "Carrer de Mallorca 401"),
    ("ADDRESS", "ES", "Calle Sol s/n"),
    ("ADDRESS", "JP", "東京都千代田区丸の内1-1-1"),
    ("ADDRESS", "JP", "1-1-1 Marunouchi, Chiyoda-ku"),
    ("ADDRESS", "JP", "丸の内１−１−１"),
    ("ADDRESS", "JP", "2-8-1 Nishi-Shinjuku, Shinjuku-ku"),
    ("ADDRESS", "IN", "Flat 302, Sai Residency, MG Road"),
    ("ADDRESS", "IN", "12 M.G. Road, Near City Mall"),
    ("ADDRESS", "IN", "House No. 45, Sector 21"),
    ("ADDRESS", "NL", "Damrak 1"),
    ("ADDRESS", "BR", "Avenida Paulista 1000"),
    # ------------------------------------------------------------------- CITY
    ("CITY", "US", "Seattle"),
    ("CITY", "US", "  SEATTLE "),
    ("CITY", "US", "New York"),
    ("CITY", "US", "St. Louis"),
    ("CITY", "US", "Winston-Salem"),
    ("CITY", "CA", "Montréal"),
    ("CITY", "CA", "Québec City"),
    ("CITY", "GB", "London"),
    ("CITY", "GB", "Stratford-upon-Avon"),
    ("CITY", "DE", "München"),
    ("CITY", "DE", "Muenchen"),
    ("CITY", "DE", "Frankfurt am Main"),
    ("CITY", "DE", "Gießen"),
    ("CITY", "FR", "Paris"),
    ("CITY", "FR", "Saint-Étienne"),
    ("CITY", "IT", "Milano"),
    ("CITY", "IT", "Forlì"),
    ("CITY", "ES", "A Coruña"),
    ("CITY", "ES", "Madrid"),
    ("CITY", "JP", "東京"),
    ("CITY", "JP", "Tokyo"),
    ("CITY", "IN", "New Delhi"),
    ("CITY", "IN", "मुंबई"),
    ("CITY", "NL", "'s-Hertogenbosch"),
    ("CITY", "BR", "São Paulo"),
    ("CITY", "US", ""),
    # ------------------------------------------------------------------ STATE
    ("STATE", "US", "Texas"),
    ("STATE", "US", "tx"),
    ("STATE", "US", "TX"),
    ("STATE", "US", " tx "),
    ("STATE", "US", "T.X."),
    ("STATE", "US", "New York"),
    ("STATE", "US", "new-york"),
    ("STATE", "US", "Washington"),
    ("STATE", "US", "District of Columbia"),
    ("STATE", "US", "DC"),
    ("STATE", "US", "Puerto Rico"),
    ("STATE", "US", "Calif."),
    ("STATE", "US", "Tex."),
    ("STATE", "US", "T"),
    ("STATE", "US", ""),
    ("STATE", "CA", "British Columbia"),
    ("STATE", "CA", "bc"),
    ("STATE", "CA", "Ontario"),
    ("STATE", "CA", "Québec"),
    ("STATE", "CA", "Quebec"),
    ("STATE", "GB", "England"),
    ("STATE", "GB", "Greater London"),
    ("STATE", "GB", "Scotland"),
    ("STATE", "DE", "Bayern"),
    ("STATE", "DE", "Bavaria"),
    ("STATE", "DE", "BY"),
    ("STATE", "DE", "Baden-Württemberg"),
    ("STATE", "DE", "Baden-Wuerttemberg"),
    ("STATE", "DE", "Nordrhein-Westfalen"),
    ("STATE", "DE", "North Rhine-Westphalia"),
    ("STATE", "FR", "Île-de-France"),
    ("STATE", "FR", "Ile-de-France"),
    ("STATE", "FR", "Provence-Alpes-Côte d'Azur"),
    ("STATE", "FR", "Provence-Alpes-Cote d'Azur"),
    ("STATE", "FR", "Bretagne"),
    ("STATE", "IT", "Milan"),
    ("STATE", "IT", "Milano"),
    ("STATE", "IT", "MI"),
    ("STATE", "IT", "Rome"),
    ("STATE", "IT", "Roma"),
    ("STATE", "ES", "Madrid"),
    ("STATE", "ES", "M"),
    ("STATE", "ES", "Barcelona"),
    ("STATE", "ES", "Málaga"),
    ("STATE", "ES", "A Coruña"),
    ("STATE", "JP", "Tokyo"),
    ("STATE", "JP", "東京都"),
    ("STATE", "JP", "13"),
    ("STATE", "IN", "Maharashtra"),
    ("STATE", "IN", "MH"),
    ("STATE", "IN", "Tamil Nadu"),
    ("STATE", "NL", "Noord-Holland"),
    ("STATE", "BR", "São Paulo"),
    ("STATE", "BR", "SP"),
    # ----------------------------------------------------------------- POSTAL
    ("POSTAL", "US", "98101"),
    ("POSTAL", "US", "98101-1234"),
    ("POSTAL", "US", "98101 1234"),
    ("POSTAL", "US", "981011234"),
    ("POSTAL", "US", " 02134 "),
    ("POSTAL", "US", "9810"),
    ("POSTAL", "US", "2134"),
    ("POSTAL", "US", "ZIP 98101"),
    ("POSTAL", "US", ""),
    ("POSTAL", "CA", "K1A 0B1"),
    ("POSTAL", "CA", "k1a 0b1"),
    ("POSTAL", "CA", "K1A0B1"),
    ("POSTAL", "CA", "K1A-0B1"),
    ("POSTAL", "CA", "K1A 0B"),
    ("POSTAL", "CA", "H3Z 2Y7 CANADA"),
    ("POSTAL", "GB", "SW1A 2AA"),
    ("POSTAL", "GB", "sw1a 2aa"),
    ("POSTAL", "GB", " SW1A 1AA "),
    ("POSTAL", "GB", "W1A 1AA"),
    ("POSTAL", "GB", "M1 1AE"),
    ("POSTAL", "GB", "B33 8TH"),
    ("POSTAL", "GB", "EC1A 1BB"),
    ("POSTAL", "GB", "CR2 6XH"),
    ("POSTAL", "GB", "SW1A"),
    ("POSTAL", "GB", "SW1A 2AAX"),
    ("POSTAL", "DE", "10115"),
    ("POSTAL", "DE", "D-10115"),
    ("POSTAL", "DE", "01067"),
    ("POSTAL", "DE", "1011"),
    ("POSTAL", "FR", "75008"),
    ("POSTAL", "FR", "75 008"),
    ("POSTAL", "FR", "F-75008"),
    ("POSTAL", "IT", "00184"),
    ("POSTAL", "IT", "20121"),
    ("POSTAL", "IT", "I-20121"),
    ("POSTAL", "ES", "28013"),
    ("POSTAL", "ES", "08001"),
    ("POSTAL", "ES", "8001"),
    ("POSTAL", "JP", "〒100-0001"),
    ("POSTAL", "JP", "100-0001"),
    ("POSTAL", "JP", "1000001"),
    ("POSTAL", "JP", "\uff11\uff10\uff10\u2212\uff10\uff10\uff10\uff11"),
    ("POSTAL", "JP", "100-001"),
    ("POSTAL", "IN", "110001"),
    ("POSTAL", "IN", "110 001"),
    ("POSTAL", "IN", "11001"),
    ("POSTAL", "IN", "\u0967\u0967\u0966\u0966\u0966\u0967"),
    ("POSTAL", "NL", "1012 AB"),
    ("POSTAL", "NL", "10123"),
    ("POSTAL", "BR", "01310-100"),
]


def git_blob_id(path):
    with open(path, "rb") as f:
        data = f.read()
    h = hashlib.sha1()
    h.update(b"blob %d\0" % len(data))
    h.update(data)
    return h.hexdigest()


def sha256_hex(s):
    return hashlib.sha256(s.encode("utf-8")).hexdigest() if s else ""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--library", required=True,
                    help="folder holding Amazon's source/glue/library at commit " + COMMIT)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                  "amazon-vectors.json"))
    args = ap.parse_args()

    lib = os.path.abspath(args.library)
    for name, blob in sorted(EXPECTED_BLOBS.items()):
        got = git_blob_id(os.path.join(lib, name))
        if got != blob:
            sys.exit("%s: git blob %s, expected %s (not commit %s?)" % (name, got, blob, COMMIT))

    sys.path.insert(0, lib)
    import phonenumbers
    # address_normalizer prints debug lines; keep stdout clean.
    with contextlib.redirect_stdout(io.StringIO()):
        from address_normalizer import AddressNormalizer
        from city_normalizer import CityNormalizer
        from default_normalizer import DefaultNormalizer
        from email_normalizer import EmailNormalizer
        from phone_normalizer import PhoneNormalizer
        from state_normalizer import StateNormalizer
        from zip_normalizer import ZipNormalizer

    if phonenumbers.__version__ != EXPECTED_PHONENUMBERS:
        print("warning: phonenumbers %s, vectors were made with %s"
              % (phonenumbers.__version__, EXPECTED_PHONENUMBERS), file=sys.stderr)

    def normalizer(typ, country):
        # Same choice as transform.NormalizationPatterns (POSTAL is Amazon's ZIP).
        if typ == "ADDRESS":
            return AddressNormalizer(country)
        if typ == "STATE":
            return StateNormalizer(country)
        if typ == "POSTAL":
            return ZipNormalizer(country)
        if typ == "PHONE":
            return PhoneNormalizer()
        if typ == "EMAIL":
            return EmailNormalizer()
        if typ == "CITY":
            return CityNormalizer()
        return DefaultNormalizer()

    def completed_phone(value, country):
        try:
            n = phonenumbers.parse(value, country)
        except phonenumbers.NumberParseException:
            return ""
        if not phonenumbers.is_possible_number(n):
            return ""
        return phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.E164).lstrip("+")

    seen = set()
    vectors = []
    skipped = []
    for typ, country, value in INPUTS:
        assert typ in TYPES, typ
        key = (typ, country, value)
        if key in seen:
            sys.exit("duplicate input: %r" % (key,))
        seen.add(key)
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                out = normalizer(typ, country).normalize(value).normalized_record
        except Exception as e:  # a reference normaliser crashed: skip, report
            skipped.append((typ, country, value, "%s: %s" % (type(e).__name__, e)))
            continue
        if not isinstance(out, str):
            skipped.append((typ, country, value, "non-string result %r" % (out,)))
            continue
        v = {"type": typ, "country": country, "input": value,
             "normalized": out, "sha256": sha256_hex(out)}
        if typ == "PHONE":
            c = completed_phone(value, country)
            v["completed"] = c
            v["completed_sha256"] = sha256_hex(c)
            if value.strip().startswith("00"):
                # "00" is the international prefix in most countries: the
                # Go port reads it as "+". Record what Amazon's own code
                # makes of the number written with "+".
                with contextlib.redirect_stdout(io.StringIO()):
                    i = PhoneNormalizer().normalize("+" + value.strip()[2:]).normalized_record
                v["international"] = i
                v["international_sha256"] = sha256_hex(i)
        vectors.append(v)

    vectors.sort(key=lambda v: (TYPES.index(v["type"]), v["country"], v["input"]))
    doc = {
        "reference": {
            "repository": REPOSITORY,
            "commit": COMMIT,
            "path": LIBRARY_PATH,
            "phonenumbers": phonenumbers.__version__,
            "generated_by": GENERATED_BY,
        },
        "vectors": vectors,
    }
    with open(args.out, "w", encoding="utf-8", newline="\n") as f:
        json.dump(doc, f, ensure_ascii=False, indent=2)
        f.write("\n")

    for typ, country, value, err in skipped:
        print("skipped %s %s %r: %s" % (typ, country, value, err), file=sys.stderr)
    print("wrote %d vectors to %s (%d skipped)" % (len(vectors), args.out, len(skipped)),
          file=sys.stderr)


if __name__ == "__main__":
    main()
