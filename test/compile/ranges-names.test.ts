/** Unit rows for the compiler's interval arithmetic and identifier registry. */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { IR_NAME_MAX } from '../../src/compile/index.js'
import { createNameRegistry, isValidId } from '../../src/compile/names.js'
import { mergePortRanges, subtractCIDRs } from '../../src/compile/ranges.js'
import { type ParsedCIDR, parseCIDR } from '../../src/model/index.js'

const c = (t: string) => parseCIDR(t) as ParsedCIDR

describe('cidr minus except', () => {
  const rows = [
    { name: 'no except keeps the cidr', cidr: '10.0.0.0/8', except: [], want: ['10.0.0.0/8'] },
    { name: 'host bits are cleared', cidr: '10.0.0.1/24', except: [], want: ['10.0.0.0/24'] },
    {
      name: 'a hole in the middle leaves aligned blocks around it',
      cidr: '10.0.0.0/24',
      except: ['10.0.0.64/26'],
      want: ['10.0.0.0/26', '10.0.0.128/25'],
    },
    {
      name: 'an except covering everything leaves nothing',
      cidr: '10.0.0.0/24',
      except: ['10.0.0.0/16'],
      want: [],
    },
    {
      name: 'an except outside the cidr changes nothing',
      cidr: '10.0.0.0/24',
      except: ['10.1.0.0/24'],
      want: ['10.0.0.0/24'],
    },
    {
      name: 'an except of the other family is ignored',
      cidr: '10.0.0.0/24',
      except: ['fd00::/8'],
      want: ['10.0.0.0/24'],
    },
    {
      name: 'overlapping excepts are merged',
      cidr: '10.0.0.0/28',
      except: ['10.0.0.0/30', '10.0.0.2/31', '10.0.0.12/30'],
      want: ['10.0.0.4/30', '10.0.0.8/30'],
    },
    {
      name: 'IPv6 works the same',
      cidr: 'fd00::/126',
      except: ['fd00::1/128'],
      want: ['fd00::/128', 'fd00::2/127'],
    },
    {
      name: 'the whole IPv4 space minus one address',
      cidr: '0.0.0.0/0',
      except: ['255.255.255.255/32'],
      want: Array.from({ length: 32 }, (_, i) => i).map((i) => {
        // 0.0.0.0/1, 128.0.0.0/2, ... 255.255.255.254/32
        const base = (0xffffffff << (32 - i)) >>> 0
        const ip = [24, 16, 8, 0].map((s) => (i === 0 ? 0 : (base >>> s) & 255)).join('.')
        return `${ip}/${i + 1}`
      }),
    },
  ]
  it.each(rows)('$name', ({ cidr, except, want }) => {
    expect(subtractCIDRs(c(cidr), except.map(c))).toEqual(want)
  })
})

describe('port ranges', () => {
  it.each([
    {
      name: 'overlapping ranges merge',
      in: [
        { from: 80, to: 90 },
        { from: 85, to: 100 },
      ],
      want: [{ from: 80, to: 100 }],
    },
    {
      name: 'adjacent ranges merge',
      in: [
        { from: 80, to: 80 },
        { from: 81, to: 81 },
      ],
      want: [{ from: 80, to: 81 }],
    },
    {
      name: 'separate ranges are sorted',
      in: [
        { from: 443, to: 443 },
        { from: 80, to: 80 },
      ],
      want: [
        { from: 80, to: 80 },
        { from: 443, to: 443 },
      ],
    },
  ])('$name', (row) => {
    expect(mergePortRanges(row.in)).toEqual(row.want)
  })
})

describe('identifier registry', () => {
  it('names a readable form that is already a slug as the full rewrite does (fast path)', () => {
    // the rewrite every readable form went through before the fast path
    const slugOf = (r: string) =>
      r
        .toLowerCase()
        .replace(/[^a-z0-9_-]+/g, '_')
        .replace(/__+/g, '_')
        .replace(/^_|_$/g, '')
    const reference = (readable: string) => {
      const slug = slugOf(readable)
      const room = IR_NAME_MAX - 2
      return slug === readable && slug.length <= room ? `p_${slug}` : undefined
    }
    const text = fc.string({
      unit: fc.constantFrom('a', 'Z', '0', '_', '-', '.', '/', ' ', '='),
      maxLength: 12,
    })
    fc.assert(
      fc.property(text, (readable) => {
        const want = reference(readable)
        const got = createNameRegistry().name('k', 'p_', readable)
        if (want !== undefined) expect(got).toBe(want)
        else expect(got).toMatch(/_[0-9a-f]{8}$/)
      }),
      { numRuns: 2000 },
    )
  })

  it("gives the ids of a fresh registry when made from the last build's (collisions included)", () => {
    // keys, readable forms and prefixes from small pools, so keys repeat with other parts and collide
    const call = fc.record({
      key: fc.constantFrom('k1', 'k2', 'k3', 'k4', 'k5'),
      readable: fc.constantFrom('a-b', 'a_b', 'a.b', 'A_B', 'x', `y${'z'.repeat(70)}`),
      prefix: fc.constantFrom('p_', 'q_'),
    })
    fc.assert(
      fc.property(fc.array(call, { maxLength: 8 }), fc.array(call, { maxLength: 8 }), (first, second) => {
        const previous = createNameRegistry()
        for (const x of first) previous.name(x.key, x.prefix, x.readable, '_v4')
        const fresh = createNameRegistry()
        const reused = createNameRegistry(previous)
        for (const x of second)
          expect(reused.name(x.key, x.prefix, x.readable, '_v4')).toBe(
            fresh.name(x.key, x.prefix, x.readable, '_v4'),
          )
      }),
      { numRuns: 500 },
    )
  })

  it('keeps a short valid name as it is', () => {
    expect(createNameRegistry().name('k', 'pol_', 'prod_web', '_in')).toBe('pol_prod_web_in')
  })
  it('gives the same key the same id', () => {
    const r = createNameRegistry()
    expect(r.name('k', 'pol_', 'a.b', '_in')).toBe(r.name('k', 'pol_', 'other', '_in'))
  })
  it('adds a hash when characters had to be replaced', () => {
    expect(createNameRegistry().name('k', 'pol_', 'ns_web.v2', '_in')).toMatch(
      /^pol_ns_web_v2_[0-9a-f]{8}_in$/,
    )
  })
  it('bounds long names and keeps them valid', () => {
    const id = createNameRegistry().name('k', 'pol_', `ns_${'x'.repeat(300)}`, '_in')
    expect(id.length).toBeLessThanOrEqual(IR_NAME_MAX)
    expect(isValidId(id)).toBe(true)
  })
  it('never hands the same id to two keys, even when their readable forms collide', () => {
    const r = createNameRegistry()
    const ids = ['a-b', 'a_b', 'a.b', 'A_B', 'a_b'].map((readable, i) => r.name(`key${i}`, 'p_', readable))
    expect(new Set(ids).size).toBe(ids.length)
    for (const id of ids) expect(isValidId(id)).toBe(true)
  })
})
