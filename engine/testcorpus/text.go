package testcorpus

import (
	"strings"
	"unicode/utf8"
)

// vocabulary holds common English words, most frequent first, so that
// rng.skewed gives text a natural word distribution (and so a realistic
// compression ratio).
var vocabulary = strings.Fields(`
the to and of a in you for is that it on this we be with will have are as
at your not if can from but all please be our by or an me would so they
was do just know let there been one what about more time any when here up
get out thanks also new need see like should which some meeting today now
could work week team has them their next make us check go who call think
send attached report update project going back still first good well sure
other had were did because people only then into after over last while
review following note these its than may two way before help questions
tomorrow document email change issue morning afternoon changes version draft
number order account customer payment invoice budget quarter plan release
monday tuesday wednesday thursday friday server data file files list group
office schedule agenda minutes share shared link access phone board contract
agreement proposal estimate figures numbers table chart slides summary notes
price cost costs support ticket problem fix fixed test tests testing results
status deadline delivery shipment address details information confirm sent
received looking forward regarding attached appreciate discuss discussed
available possible probably already soon later earlier week's month year
years hours minutes room building floor conference client partner vendor
manager director engineer analyst design product feature features launch
market sales revenue growth target targets forecast risk risks approval
approve approved signed sign final earlier latest current previous several
small large quick short long simple clear open closed pending complete
`)

// sentence returns an English-like sentence of 4 to 17 words.
func sentence(r *rng) string {
	n := r.between(4, 17)
	var b strings.Builder
	for i := range n {
		w := vocabulary[r.skewed(len(vocabulary))]
		if i == 0 {
			w = strings.ToUpper(w[:1]) + w[1:]
		} else {
			b.WriteByte(' ')
			if r.pct(4) {
				b.WriteString(pick(r, []string{"Eider", "Alice", "Bob", "Q3", "2024", "EMEA", "Paris", "Berlin"}))
				b.WriteByte(' ')
			}
		}
		b.WriteString(w)
		if i < n-1 && r.pct(6) {
			b.WriteByte(',')
		}
	}
	b.WriteString(pick(r, []string{".", ".", ".", ".", "?", "!"}))
	return b.String()
}

// paragraph returns 1 to 6 sentences on one line.
func paragraph(r *rng) string {
	n := r.between(1, 6)
	s := make([]string, n)
	for i := range s {
		s[i] = sentence(r)
	}
	return strings.Join(s, " ")
}

// language selects the sample text that a charset can represent.
type language int

const (
	langEnglish     language = iota
	langWestern              // ISO-8859-1 repertoire
	langWestern1252          // adds the windows-1252 specials (curly quotes, euro)
	langRussian
	langJapanese
	langAny // everything, for UTF-8
)

// samples are sentences written for the corpus, each within the repertoire
// of its language's charsets (the tests check that every one encodes).
var samples = map[language][]string{
	langWestern: {
		"Le comité se réunira jeudi à quinze heures dans la salle de conférence.",
		"Merci de vérifier le budget prévisionnel avant la réunion de décembre.",
		"Les données reçues hier ont été corrigées et déplacées vers le nouveau répertoire.",
		"Ça reste à confirmer, mais je crois que la décision est déjà prise.",
		"Die Lieferung für Düsseldorf verzögert sich um zwei Wochen.",
		"Bitte prüfen Sie die Änderungen im Anhang und schicken Sie mir Ihre Rückmeldung.",
		"Größere Dateien werden künftig über den Server übertragen.",
		"Schöne Grüße aus Köln und ein schönes Wochenende.",
		"¿Podrías enviarme el informe del año pasado antes del viernes?",
		"La reunión de mañana será en la oficina de Logroño, ¡no llegues tarde!",
		"Vi ses på mötet i Göteborg på måndag, hälsningar från Åsa.",
		"Obrigado pela atenção; a versão final está em anexo.",
	},
	langWestern1252: {
		"The “quarterly” report — final version — is attached; the fee is €1,250…",
		"Don’t forget the ‘draft’ label – Œuvre complète, Šárka’s copy.",
		"Prix : 15 € hors taxes ; la facture définitive suit.",
	},
	langRussian: {
		"Привет! Отправляю тебе отчёт за прошлый месяц.",
		"Встреча перенесена на пятницу, в десять часов утра.",
		"Пожалуйста, проверь цифры в таблице и ответь до вечера.",
		"Всё работает, но сервер иногда перезагружается без причины.",
		"Договор подписан, оригинал отправим почтой на следующей неделе.",
		"С уважением, Ольга Петрова.",
	},
	langJapanese: {
		"お世話になっております。",
		"来週の会議の資料を添付いたします。",
		"ご確認のほど、よろしくお願いいたします。",
		"東京本社の山田です。",
		"新しいサーバーの設定は金曜日までに完了する予定です。",
		"何か問題がありましたら、ご連絡ください。",
		"見積書の金額を修正しましたので、再度お送りします。",
		"明日の午後三時から打ち合わせを行います。",
	},
	langAny: {
		"Καλημέρα σε όλους, η αναφορά είναι έτοιμη.",
		"请查收附件中的季度报告。",
		"Chúng tôi sẽ gửi hợp đồng vào thứ Hai.",
		"شكرا جزيلا على المساعدة.",
		"Ευχαριστώ πολύ! 🎉 Great work everyone 👍",
		"Fußgängerübergänge – naïve café déjà vu ✓",
		"Łódź, Kraków i Gdańsk są w raporcie.",
	},
}

// sampleParagraph returns a paragraph in the given language.
func sampleParagraph(r *rng, lang language) string {
	if lang == langEnglish {
		return paragraph(r)
	}
	var pool []string
	switch lang {
	case langWestern1252:
		pool = append(append(pool, samples[langWestern]...), samples[langWestern1252]...)
	case langAny:
		for _, l := range []language{langWestern, langWestern1252, langRussian, langJapanese, langAny} {
			pool = append(pool, samples[l]...)
		}
	default:
		pool = samples[lang]
	}
	n := r.between(1, 4)
	sep := " "
	if lang == langJapanese {
		sep = ""
	}
	s := make([]string, n)
	for i := range s {
		if lang != langJapanese && r.pct(25) {
			s[i] = sentence(r)
		} else {
			s[i] = pick(r, pool)
		}
	}
	return strings.Join(s, sep)
}

// wrap breaks s into lines of at most width runes, at spaces where there
// are any and inside words otherwise (Japanese has no spaces).
func wrap(s string, width int) []string {
	var lines []string
	var cur strings.Builder
	curLen := 0
	flush := func() {
		lines = append(lines, cur.String())
		cur.Reset()
		curLen = 0
	}
	for _, w := range strings.Split(s, " ") {
		wl := utf8.RuneCountInString(w)
		if curLen > 0 && curLen+1+wl > width {
			flush()
		}
		if curLen > 0 {
			cur.WriteByte(' ')
			curLen++
		}
		// Only a word longer than a whole line gets here with curLen+wl > width.
		for curLen+wl > width {
			cut := 0
			for range width - curLen {
				_, size := utf8.DecodeRuneInString(w[cut:])
				cut += size
			}
			cur.WriteString(w[:cut])
			w = w[cut:]
			wl -= width - curLen
			flush()
		}
		cur.WriteString(w)
		curLen += wl
	}
	if curLen > 0 {
		flush()
	}
	return lines
}

// person is a display name with an ASCII local part derived from it.
type person struct{ name, local string }

var people = map[language][]person{
	langEnglish: {
		{"Alice Walker", "alice.walker"}, {"Bob Stone", "bob"}, {"Carol Jensen", "cjensen"},
		{"Dave O'Neill", "dave.oneill"}, {"Erin Brooks", "erin"}, {"Frank Li", "frank.li"},
		{"Grace Hopper", "grace"}, {"Heidi Nakamura", "heidi.n"}, {"Ivan Petrov", "ivan"},
		{"Judy Alvarez", "judy.alvarez"}, {"Mallory Quinn", "mallory"}, {"Trent Baker", "trent"},
	},
	langWestern: {
		{"José Müller", "jose.mueller"}, {"François Dubois", "fdubois"}, {"Åsa Nyström", "asa"},
		{"Jürgen Groß", "juergen.gross"}, {"Inés Peña", "ines"}, {"Zoë Brontë", "zoe"},
	},
	langRussian: {
		{"Ольга Петрова", "olga.petrova"}, {"Иван Смирнов", "ivan.smirnov"}, {"Алёна Кузнецова", "alena"},
	},
	langJapanese: {
		{"山田太郎", "yamada"}, {"佐藤花子", "hanako.sato"}, {"鈴木一郎", "suzuki"},
	},
	langAny: {
		{"Ζωή Παπαδοπούλου", "zoi"}, {"王小明", "wang.xm"}, {"Nguyễn Văn An", "an.nguyen"},
		{"Björk Guðmundsdóttir", "bjork"}, {"Łukasz Wójcik", "lukasz"},
	},
}

func personFor(r *rng, lang language) person {
	switch lang {
	case langWestern1252:
		lang = langWestern
	case langAny:
		// UTF-8 can carry any of them.
		lang = pick(r, []language{langEnglish, langWestern, langRussian, langJapanese, langAny})
	}
	return pick(r, people[lang])
}

var domains = []string{
	"example.com", "example.org", "example.net", "mail.example.com",
	"lists.example.org", "corp.example.net", "xn--bcher-kva.example",
}

// utf8Domains are used only in messages that carry raw UTF-8 headers.
var utf8Domains = []string{"bücher.example", "почта.example", "例え.example"}

var utf8Locals = []string{"josé", "ольга", "山田", "zoë.müller", "δοκιμή"}

// subjectWords makes English subjects.
var subjectWords = strings.Fields(`quarterly report meeting notes invoice budget
draft review release plan schedule update contract proposal question lunch
server outage agenda slides figures follow-up reminder request approval`)

func englishSubject(r *rng) string {
	n := r.between(2, 9)
	w := make([]string, n)
	for i := range w {
		w[i] = pick(r, subjectWords)
	}
	w[0] = strings.ToUpper(w[0][:1]) + w[0][1:]
	return strings.Join(w, " ")
}
